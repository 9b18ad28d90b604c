#pragma once
// `coroner info` and `coroner log` rendered for a terminal and as JSON.
#include <nlohmann/json.hpp>
#include <string>

#include "coroner/os/linux/kernel_summary.hpp"

namespace coroner::report {

nlohmann::json info_json(const Kernel& kernel, const linux_kernel::KernelSummary& summary);
std::string info_text(const Kernel& kernel, const linux_kernel::KernelSummary& summary);

// A user-space core: the process, its threads and mapped files.
nlohmann::json user_core_json(const Dump& dump);
std::string user_core_text(const Dump& dump);

nlohmann::json log_json(const std::string& os, const KernelLog& log);
std::string log_text(const KernelLog& log, bool with_caller);

// JSON text that never throws on bytes from the dump.
std::string to_json_text(const nlohmann::json& j);

}  // namespace coroner::report
