#pragma once
// What `analyze` finds on any kernel: the kernel's own account of the crash, the thread that
// crashed and its backtrace, the fault explained (where the kernel faulted), the facts the rules
// are evaluated on, the signature, and the other threads worth a look.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/os/linux/fault.hpp"
#include "coroner/os/linux/kernel_summary.hpp"
#include "coroner/rules/rule_engine.hpp"
#include "coroner/target/frame.hpp"
#include "coroner/target/kernel_log.hpp"
#include "coroner/target/thread_list.hpp"

namespace coroner::analysis {

// A thread besides the crashing one that the analysis points at: it holds a freed object the
// crashing thread was using (mdb's ::whatthread on it), or it sleeps uninterruptibly.
struct ThreadOfInterest {
  const Thread* thread = nullptr;
  int64_t pid = 0;  // as the facts give it: the id its kernel names it by (named_pid)
  std::string why;
  std::vector<std::string> functions;  // its innermost frames
};

struct CrashAnalysis {
  linux_kernel::KernelSummary summary;  // release, panic message and cause, as `info` shows them
  const Thread* crashing = nullptr;
  std::optional<Backtrace> crashing_bt;
  std::optional<linux_kernel::FaultExplanation> fault;  // where the kernel faulted and why
  rules::Facts facts;
  std::string signature;  // analysis::crash_signature's, past the kernel's crash machinery
  std::vector<ThreadOfInterest> other_threads;
  std::vector<std::string> problems;
  std::string symbols_from, types_from;  // where the symbols and types were read (Target::debug_sources)
  // What the gatherer read and the answers point into, kept with them: every thread's backtrace
  // (in the order of the target's threads, which `crashing` and the threads of interest point
  // into), the log.
  std::vector<Backtrace> backtraces;
  std::optional<KernelLog> log;
};

// Told the step the analysis is at ("unwinding 56 threads"), for a progress line.
using StepReporter = std::function<void(std::string_view)>;

}  // namespace coroner::analysis
