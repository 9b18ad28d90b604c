#include "coroner/analysis/linux_facts.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <regex>
#include <set>

#include "coroner/format.hpp"
#include "coroner/analysis/crash_signature.hpp"
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
    out.push_back({tasks[i], why, {f.begin(), f.begin() + static_cast<long>(std::min(f.size(), kFunctionsShown))}});
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

}  // namespace

CrashAnalysis analyze_crash(LinuxView& view, Slub* slub, const PoisonCatalog& poison, const KernelLog* log,
                            const StepReporter& step) {
  auto at = [&](std::string_view what) {
    if (step) step(what);
  };
  CrashAnalysis a;
  at("reading the task list");
  const Kernel& k = view.objects().kernel();
  a.summary = summarize(k, log);
  if (a.summary.panic_message.value) a.facts.panic.push_back(*a.summary.panic_message.value);
  if (a.summary.panic_cause.value) a.facts.panic.push_back(*a.summary.panic_cause.value);
  if (log) {
    for (const auto& r : log->records) a.facts.log.push_back(r.text);
  }
  auto tasks = view.tasks();
  if (!tasks) {
    a.problems.push_back("tasks: " + tasks.error().message);
    return a;
  }
  const TaskList& list = **tasks;
  a.crashing = view.panicking_task();
  std::map<const Task*, size_t> thread_of;
  std::vector<const Task*> task_of;
  at("unwinding " + std::to_string(list.tasks.size()) + " threads");
  for (const Task& t : list.tasks) {
    auto bt = view.backtrace(t);
    if (!bt) continue;
    if (&t == a.crashing) {
      a.facts.crashing = static_cast<int>(a.facts.threads.size());
      a.crashing_bt = *bt;
    }
    thread_of[&t] = a.facts.threads.size();
    task_of.push_back(&t);
    a.facts.threads.push_back({t.pid, t.tgid, t.comm, functions_of(*bt), t.state});
  }
  ObjectGatherer objects(view, slub, poison, a.facts, thread_of);
  at("explaining the fault");
  if (a.crashing_bt) a.fault = explain_fault(view, slub, poison, *a.crashing_bt, log);
  if (a.fault && a.fault->faulting) {
    rules::FaultFacts f;
    f.address_kind = a.fault->address_meaning.kind;
    f.pattern = a.fault->address_meaning.pattern;
    f.instruction = a.fault->faulting->text();
    f.member = a.fault->chain.empty() ? a.fault->member : a.fault->chain.front().member;
    f.address = a.fault->address;
    a.facts.fault = f;
    if (a.fault->address && a.fault->address_meaning.slab) {
      objects.add_slab(*a.fault->address_meaning.slab, *a.fault->address, "the faulting address", 0, true);
    }
    for (const Provenance& p : a.fault->chain) {
      if (p.address && p.address_meaning.slab) {
        objects.add_slab(*p.address_meaning.slab, *p.address, p.reg + " was loaded from it by `" + p.instruction.text() + "`",
                         0, true);
      }
    }
  }
  if (a.fault && a.fault->checked && a.fault->checked_meaning.slab) {
    objects.add_slab(*a.fault->checked_meaning.slab, *a.fault->checked,
                     "what the failed check read, by `" + a.fault->checked_by->text() + "`", 0, true);
  }
  at("following the objects the crashing thread used");
  if (a.crashing_bt) objects.add_crashing_thread(*a.crashing_bt, a.crashing, a.fault ? &*a.fault : nullptr);
  objects.follow_pointers(kPointersFollowed, a.crashing);
  at("finding the threads that hold them");
  objects.find_holders();
  a.other_threads = threads_of_interest(a.facts, task_of);
  return a;
}

std::string crash_signature(const CrashAnalysis& a) {
  std::string cause = a.summary.panic_cause.value.value_or(a.summary.panic_message.value.value_or(""));
  std::vector<std::string> functions;
  if (a.facts.crashing >= 0) functions = a.facts.threads[static_cast<size_t>(a.facts.crashing)].functions;
  return crash_signature(cause, functions, linux_kernel::crash_machinery());
}

}  // namespace coroner::analysis
