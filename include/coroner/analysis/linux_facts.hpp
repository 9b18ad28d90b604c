#pragma once
// The facts rules are evaluated on, gathered from a Linux dump: the panic message and its cause,
// the log, every thread's backtrace, the fault explained, and the slab objects it went through.
#include <functional>
#include <optional>
#include <string_view>

#include "coroner/analysis/crash_analysis.hpp"
#include "coroner/os/linux/printk_log.hpp"

namespace coroner::analysis {

// `slub` may be null. The backtraces are kept in `view`; `fault` points into `crashing_bt`. The
// objects' field readers read through `view` and `poison`, which must outlive the analysis.
CrashAnalysis analyze_crash(linux_kernel::LinuxView& view, linux_kernel::Slub* slub, const PoisonCatalog& poison,
                            const linux_kernel::KernelLog* log,
                            const StepReporter& step = {});


}  // namespace coroner::analysis
