#pragma once
// `analyze` on any kernel: the facts gathered by the kernel's own reader (Linux's structures, or
// a data/os/ model's), ready for the rules.
#include "coroner/analysis/crash_analysis.hpp"
#include "coroner/os/target.hpp"

namespace coroner::analysis {

// The target must outlive the analysis: the objects' field readers read through it.
CrashAnalysis analyze(Target& target, const StepReporter& step = {});

}  // namespace coroner::analysis
