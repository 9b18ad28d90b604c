#pragma once
// The facts rules are evaluated on, gathered from a Linux dump: the panic message and its cause,
// the log, every thread's backtrace, the fault explained, and the slab objects it went through.
#include <functional>
#include <optional>
#include <string_view>

#include "coroner/os/linux/fault.hpp"
#include "coroner/os/linux/kernel_summary.hpp"
#include "coroner/os/linux/printk_log.hpp"
#include "coroner/rules/rule_engine.hpp"

namespace coroner::analysis {

// A thread besides the crashing one that the analysis points at: it holds a freed object the
// crashing thread was using (mdb's ::whatthread on it), or it sleeps uninterruptibly.
struct ThreadOfInterest {
  const linux_kernel::Task* task = nullptr;
  std::string why;
  std::vector<std::string> functions;  // its innermost frames
};

struct CrashAnalysis {
  linux_kernel::KernelSummary summary;
  const linux_kernel::Task* crashing = nullptr;
  std::optional<Backtrace> crashing_bt;
  std::optional<linux_kernel::FaultExplanation> fault;
  rules::Facts facts;
  std::string signature;  // analysis::crash_signature's, past Linux's crash machinery
  std::vector<ThreadOfInterest> other_threads;
  std::vector<std::string> problems;
};

// Told the step the analysis is at ("unwinding 56 threads"), for a progress line.
using StepReporter = std::function<void(std::string_view)>;

// `slub` may be null. The backtraces are kept in `view`; `fault` points into `crashing_bt`. The
// objects' field readers read through `view` and `poison`, which must outlive the analysis.
CrashAnalysis analyze_crash(linux_kernel::LinuxView& view, linux_kernel::Slub* slub, const PoisonCatalog& poison,
                            const linux_kernel::KernelLog* log,
                            const StepReporter& step = {});


}  // namespace coroner::analysis
