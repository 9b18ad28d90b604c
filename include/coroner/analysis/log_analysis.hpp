#pragma once
// `analyze --log`: what a console log alone says of a crash, in the same CrashAnalysis a dump
// gives: the reports and which is the crash (title, type, guilty frame, signature), the crashing
// task's call trace as its only thread, and the facts the rules that read text can be evaluated on.
#include <string_view>

#include "coroner/analysis/crash_analysis.hpp"

namespace coroner::analysis {

// `options`: which report types are not crashes on the machine the log came from.
CrashAnalysis analyze_log(std::string_view text, const console::ReadOptions& options = {});

}  // namespace coroner::analysis
