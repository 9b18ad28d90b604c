#pragma once
// The facts rules are evaluated on, for a kernel described by an OS model: the panic string, every
// thread's frame-pointer backtrace, the panicking thread, and the allocator's buffers its frames
// point to (freed or not, typed through their cache's name), with every thread that holds them.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/os/linux/kernel_summary.hpp"
#include "coroner/os/model/model_threads.hpp"
#include "coroner/poison/poison_catalog.hpp"
#include "coroner/rules/rule_engine.hpp"

namespace coroner::analysis {

struct ModelAnalysis {
  linux_kernel::KernelSummary summary;  // release, panic message and cause, as `info` shows them
  ThreadList threads;
  std::vector<Backtrace> backtraces;  // one per thread, in the same order
  rules::Facts facts;
  std::string signature;  // analysis::crash_signature's, past the model's panic machinery
  std::vector<std::string> problems;
};

// `objects` and `poison` must outlive the analysis: the objects' field readers read through them.
ModelAnalysis analyze_model_crash(TypedMemory& objects, const os_model::OsModel& model, const PoisonCatalog& poison,
                                  const std::function<void(std::string_view)>& step = {});

}  // namespace coroner::analysis
