#include "coroner/analysis/analyze.hpp"

#include <set>

#include "coroner/analysis/crash_objects.hpp"
#include "coroner/analysis/crash_signature.hpp"
#include "coroner/analysis/object_fields.hpp"
#include "coroner/format.hpp"

namespace coroner::analysis {

namespace {

constexpr size_t kMaxThreadsOfInterest = 16;
// Two pointers reach a bio's bi_private, and what a request's private data points to.
constexpr int kPointersFollowed = 2;
constexpr size_t kFunctionsShown = 8;

void report(const StepReporter& step, std::string_view what) {
  if (step) step(what);
}

// The crash's name: its cause and the crashing thread's innermost functions past the kernel's
// crash machinery.
std::string signature(const Target& target, const CrashAnalysis& a) {
  const auto& reading = a.summary.reports;
  if (reading.crash) return report_signature(reading.reports[*reading.crash]);
  std::string cause = a.summary.panic_cause.value.value_or(a.summary.panic_message.value.value_or(""));
  std::vector<std::string> functions;
  if (a.facts.crashing >= 0) functions = a.facts.threads[static_cast<size_t>(a.facts.crashing)].functions;
  return crash_signature(cause, functions, target.crash_machinery());
}

// What a rule's `stack:` sees: the frames the unwinder found, not what a stack scan guessed.
bool unwound(const Frame& f) { return f.reliable || f.source != FrameSource::stack_scan; }

std::vector<std::string> functions_of(const Backtrace& bt) {
  std::vector<std::string> out;
  for (const Frame& f : bt.frames) {
    if (unwound(f) && !f.where.function.empty()) out.push_back(f.where.function);
  }
  return out;
}

// Every thread is a thread of the facts, at its index in the list; one that does not unwind has
// no functions.
void add_threads(Target& target, const ThreadList& list, CrashAnalysis& a) {
  for (const Thread& t : list.threads) {
    auto bt = target.backtrace(t);
    a.backtraces.push_back(bt ? std::move(*bt) : Backtrace{});
    if (!bt) a.backtraces.back().end = bt.error().message;
    a.facts.threads.push_back({static_cast<int>(named_pid(list, t)), static_cast<int>(t.process_id), t.comm,
                               functions_of(a.backtraces.back()), t.state});
  }
  if (auto crashed = list.crashed; crashed && *crashed < list.threads.size()) {
    a.facts.crashing = static_cast<int>(*crashed);
    a.crashing = &list.threads[*crashed];
    a.crashing_bt = a.backtraces[*crashed];
  }
}

rules::FaultFacts fault_facts(const linux_kernel::FaultExplanation& fault) {
  rules::FaultFacts f;
  f.address_kind = fault.address_meaning.kind;
  f.pattern = fault.address_meaning.pattern;
  f.instruction = fault.faulting->text();
  f.member = fault.chain.empty() ? fault.member : fault.chain.front().member;
  f.address = fault.address;
  return f;
}

// The objects' holders, and the threads in uninterruptible sleep.
std::vector<ThreadOfInterest> threads_of_interest(const rules::Facts& facts, const ThreadList& list) {
  std::vector<ThreadOfInterest> out;
  std::set<size_t> listed;
  auto add = [&](size_t i, const std::string& why) {
    if (static_cast<int>(i) == facts.crashing || out.size() >= kMaxThreadsOfInterest || !listed.insert(i).second) return;
    const auto& f = facts.threads[i].functions;
    out.push_back({&list.threads[i], facts.threads[i].pid, why, {f.begin(), f.begin() + static_cast<long>(std::min(f.size(), kFunctionsShown))}});
  };
  for (const auto& o : facts.objects) {
    std::string what;
    if (o.place == rules::ObjectPlace::stack) what = "has on its stack the address " + hex(o.address) + " the crashing thread used";
    else if (o.place == rules::ObjectPlace::panic_message) what = "holds " + hex(o.address) + ", which the panic message names";
    else if (o.place == rules::ObjectPlace::slab && o.free && o.pointers == 0) what = "holds freed " + o.cache + " object " + hex(o.address);
    else continue;
    for (const auto& h : o.holders) add(h.thread, what + " (" + h.where + ")");
  }
  for (size_t i = 0; i < facts.threads.size(); ++i) {
    if (facts.threads[i].state == 'D') add(i, "in uninterruptible sleep (D)");
  }
  return out;
}

void gather_objects(Target& target, const ThreadList& list, CrashAnalysis& a, const StepReporter& step) {
  CrashObjects objects(target, list, a.backtraces, *list.crashed, a.facts);
  if (a.fault) objects.add_fault(*a.fault);
  report(step, "following the objects the crashing thread used");
  objects.add_registers(a.fault ? &*a.fault : nullptr);
  if (list.panic_message) objects.add_named(*list.panic_message);
  objects.add_stack_words();
  objects.add_frames();  // after the allocator's: their objects know more
  objects.follow_pointers(kPointersFollowed);
  report(step, "finding the threads that hold them");
  objects.find_holders();
}

}  // namespace

CrashAnalysis analyze(Target& target, const StepReporter& step) {
  CrashAnalysis a;
  DebugSources sources = target.debug_sources();
  a.symbols_from = std::move(sources.symbols);
  a.types_from = std::move(sources.types);
  if (target.debug->btf()) {
    a.facts.no_frame_variables = "frame variables need DWARF: the types are " + a.types_from +
                                 " (give the vmlinux, -k or --debug-dir, to evaluate it)";
  }
  a.facts.os = target.os();
  a.facts.read_as = [&target, os = a.facts.os](uint64_t address, const std::string& type) {
    return object_field_reader(*target.objects, target.poison, os, type, address);
  };
  report(step, "reading the kernel log");
  Result<KernelLog> log = target.log();
  CrashAccount account = target.crash_account(log);
  a.summary = std::move(account.summary);
  a.facts.panic = std::move(account.panic);
  a.problems = std::move(account.problems);
  if (log) a.facts.log = log->lines();
  report(step, "reading the threads");
  auto list = target.threads();
  if (!list) {
    a.problems.push_back("threads: " + list.error().message);
  } else {
    for (const auto& p : (*list)->problems) a.problems.push_back(p);
    report(step, "unwinding " + std::to_string((*list)->threads.size()) + " threads");
    add_threads(target, **list, a);
    if (a.crashing_bt) {
      report(step, "explaining the fault");
      a.fault = target.explain_fault(*a.crashing_bt, log ? &*log : nullptr);
      if (a.fault && a.fault->faulting) a.facts.fault = fault_facts(*a.fault);
      gather_objects(target, **list, a, step);
    }
    a.other_threads = threads_of_interest(a.facts, **list);
  }
  if (log) a.log = std::move(*log);
  a.signature = signature(target, a);
  return a;
}

}  // namespace coroner::analysis
