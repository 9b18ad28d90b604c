#pragma once
// `coroner info` for a kernel described by an OS model: its release, version and CPU count, and
// its panic string, each from the model's expressions and named by where it came from.
#include "coroner/os/linux/kernel_summary.hpp"
#include "coroner/os/model/model_log.hpp"
#include "coroner/os/model/os_model.hpp"
#include "coroner/target/object.hpp"

namespace coroner::os_model {

// The panic message and its cause, read once for info, ps and analyze: the model's `panic.message`
// variable when it has one and it holds text, else the first `panic.log` pattern's find in the log
// (`log` when the caller has read it); the second pattern's find is the cause. What cannot be read
// is added to `problems`.
struct ModelPanic {
  linux_kernel::Sourced<std::string> message, cause;
};
ModelPanic read_panic(TypedMemory& objects, const OsModel& model, const Result<KernelLog>* log,
                      std::vector<std::string>& problems);

linux_kernel::KernelSummary summarize_model(TypedMemory& objects, const OsModel& model, const Result<KernelLog>* log = nullptr);

}  // namespace coroner::os_model
