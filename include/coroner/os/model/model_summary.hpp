#pragma once
// `coroner info` for a kernel described by an OS model: its release, version and CPU count, and
// its panic string, each from the model's expressions and named by where it came from.
#include "coroner/os/linux/kernel_summary.hpp"
#include "coroner/os/model/model_log.hpp"
#include "coroner/os/model/os_model.hpp"
#include "coroner/target/object.hpp"

namespace coroner::os_model {

linux_kernel::KernelSummary summarize_model(Objects& objects, const OsModel& model, const Result<ModelLog>* log = nullptr);

}  // namespace coroner::os_model
