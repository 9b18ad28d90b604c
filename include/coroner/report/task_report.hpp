#pragma once
// Tasks, backtraces and modules as text (crash-like columns) and JSON
// (schemas coroner.ps, coroner.bt, coroner.mod; see docs/threads.schema.md).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "coroner/os/linux/backtrace.hpp"
#include "coroner/os/linux/module_debuginfo.hpp"

namespace coroner::report {

std::string ps_text(const linux_kernel::TaskList& tasks);
nlohmann::ordered_json ps_json(const linux_kernel::TaskList& tasks);

std::string backtrace_text(const linux_kernel::Task& task, const Backtrace& bt);
nlohmann::ordered_json backtrace_json(const linux_kernel::Task& task, const Backtrace& bt);
nlohmann::ordered_json task_json(const linux_kernel::Task& t);

// With `debug`, each module's .ko (from --modules) is named, as crash's OBJECT FILE column does.
std::string modules_text(const linux_kernel::ModuleList& modules, const linux_kernel::ModuleDebugSet& debug);
nlohmann::ordered_json modules_json(const linux_kernel::ModuleList& modules, const linux_kernel::ModuleDebugSet& debug);

}  // namespace coroner::report
