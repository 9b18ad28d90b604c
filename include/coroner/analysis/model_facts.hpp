#pragma once
// The facts rules are evaluated on, for a kernel described by an OS model: the panic string, every
// thread's frame-pointer backtrace, the panicking thread, and the allocator's buffers its frames
// point to (freed or not, typed through their cache's name), with every thread that holds them.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/analysis/crash_analysis.hpp"
#include "coroner/os/model/model_threads.hpp"
#include "coroner/poison/poison_catalog.hpp"
#include "coroner/rules/rule_engine.hpp"

namespace coroner::analysis {


// `objects` and `poison` must outlive the analysis: the objects' field readers read through them.
CrashAnalysis analyze_model_crash(TypedMemory& objects, const os_model::OsModel& model, const PoisonCatalog& poison,
                                  const std::function<void(std::string_view)>& step = {});

}  // namespace coroner::analysis
