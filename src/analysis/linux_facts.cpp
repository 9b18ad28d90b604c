#include "coroner/analysis/linux_facts.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <regex>
#include <set>

#include "coroner/format.hpp"
#include "coroner/analysis/object_fields.hpp"
#include "coroner/analysis/object_index.hpp"
#include "coroner/analysis/linux_objects.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::analysis {
using namespace linux_kernel;

namespace {

std::vector<std::string> functions_of(const Backtrace& bt) {
  std::vector<std::string> out;
  for (const Frame& f : bt.frames) {
    if (f.reliable && !f.where.function.empty()) out.push_back(f.where.function);
  }
  return out;
}

constexpr size_t kMaxThreadsOfInterest = 16;
// Two pointers reach a bio's bi_private, and what a request's private data points to.
constexpr int kPointersFollowed = 2;
constexpr size_t kFunctionsShown = 8;

std::vector<ThreadOfInterest> threads_of_interest(const rules::Facts& facts, const std::vector<const Task*>& tasks) {
  std::vector<ThreadOfInterest> out;
  std::set<size_t> listed;
  auto add = [&](size_t i, const std::string& why) {
    if (static_cast<int>(i) == facts.crashing || out.size() >= kMaxThreadsOfInterest || !listed.insert(i).second) return;
    const auto& f = facts.threads[i].functions;
    out.push_back({tasks[i], facts.threads[i].pid, why, {f.begin(), f.begin() + static_cast<long>(std::min(f.size(), kFunctionsShown))}});
  };
  for (const auto& o : facts.objects) {
    if (o.place == rules::ObjectPlace::slab && (!o.free || o.pointers > 0)) continue;
    std::string what = o.place == rules::ObjectPlace::stack ? "has on its stack the address " + hex(o.address) + " the crashing thread used"
                                                            : "holds freed " + o.cache + " object " + hex(o.address);
    for (const auto& h : o.holders) add(h.thread, what + " (" + h.where + ")");
  }
  for (size_t i = 0; i < facts.threads.size(); ++i) {
    if (facts.threads[i].state == 'D') add(i, "in uninterruptible sleep (D)");
  }
  return out;
}

void add_panic_and_log(const Kernel& k, const KernelLog* log, CrashAnalysis& a) {
  a.summary = summarize(k, log);
  if (a.summary.panic_message.value) a.facts.panic.push_back(*a.summary.panic_message.value);
  if (a.summary.panic_cause.value) a.facts.panic.push_back(*a.summary.panic_cause.value);
  if (log) {
    for (const auto& r : log->records) a.facts.log.push_back(r.text);
  }
}

// Every task that unwinds is a thread of the facts; `thread_of` and `task_of` map between them.
void add_threads(LinuxView& view, const ThreadList& list, CrashAnalysis& a, std::map<const Task*, size_t>& thread_of,
                 std::vector<const Task*>& task_of) {
  a.crashing = view.panicking_task();
  for (const Task& t : list.threads) {
    auto bt = view.backtrace(t);
    if (!bt) continue;
    if (&t == a.crashing) {
      a.facts.crashing = static_cast<int>(a.facts.threads.size());
      a.crashing_bt = *bt;
    }
    thread_of[&t] = a.facts.threads.size();
    task_of.push_back(&t);
    a.facts.threads.push_back({static_cast<int>(t.thread_id), static_cast<int>(t.process_id), t.comm, functions_of(*bt), t.state});
  }
}

// The fault as the rules see it, and the objects the crash itself touched: the faulting address's,
// those its pointer was loaded from, and what a failed BUG_ON() check read.
void add_fault(const FaultExplanation& fault, CrashAnalysis& a, ObjectGatherer& objects) {
  if (fault.faulting) {
    rules::FaultFacts f;
    f.address_kind = fault.address_meaning.kind;
    f.pattern = fault.address_meaning.pattern;
    f.instruction = fault.faulting->text();
    f.member = fault.chain.empty() ? fault.member : fault.chain.front().member;
    f.address = fault.address;
    a.facts.fault = f;
    if (fault.address && fault.address_meaning.slab) {
      objects.add_slab(*fault.address_meaning.slab, *fault.address, "the faulting address", 0, true);
    }
    for (const Provenance& p : fault.chain) {
      if (p.address && p.address_meaning.slab) {
        objects.add_slab(*p.address_meaning.slab, *p.address, p.reg + " was loaded from it by `" + p.instruction.text() + "`",
                         0, true);
      }
    }
  }
  if (fault.checked && fault.checked_meaning.slab) {
    objects.add_slab(*fault.checked_meaning.slab, *fault.checked, "what the failed check read, by `" + fault.checked_by->text() + "`",
                     0, true);
  }
}

}  // namespace

CrashAnalysis analyze_crash(LinuxView& view, Slub* slub, const PoisonCatalog& poison, const KernelLog* log,
                            const StepReporter& step) {
  auto at = [&](std::string_view what) {
    if (step) step(what);
  };
  CrashAnalysis a;
  at("reading the task list");
  add_panic_and_log(view.objects().kernel(), log, a);
  auto tasks = view.tasks();
  if (!tasks) {
    a.problems.push_back("tasks: " + tasks.error().message);
    return a;
  }
  std::map<const Task*, size_t> thread_of;
  std::vector<const Task*> task_of;
  at("unwinding " + std::to_string((*tasks)->threads.size()) + " threads");
  add_threads(view, **tasks, a, thread_of, task_of);
  ObjectGatherer objects(view, slub, poison, a.facts, thread_of);
  at("explaining the fault");
  if (a.crashing_bt) a.fault = explain_fault(view, slub, poison, *a.crashing_bt, log);
  if (a.fault) add_fault(*a.fault, a, objects);
  at("following the objects the crashing thread used");
  if (a.crashing_bt) objects.add_crashing_thread(*a.crashing_bt, a.crashing, a.fault ? &*a.fault : nullptr);
  objects.follow_pointers(kPointersFollowed, a.crashing);
  at("finding the threads that hold them");
  objects.find_holders();
  a.other_threads = threads_of_interest(a.facts, task_of);
  return a;
}

}  // namespace coroner::analysis
