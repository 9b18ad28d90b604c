#pragma once
// Linux's loaded modules as text (crash's mod columns) and JSON (schema coroner.mod; see
// docs/threads.schema.md).
#include <nlohmann/json.hpp>
#include <string>

#include "coroner/os/linux/module_debuginfo.hpp"
#include "coroner/os/linux/modules.hpp"

namespace coroner::report {

// With `debug`, each module's .ko (from --modules) is named, as crash's OBJECT FILE column does.
std::string modules_text(const linux_kernel::ModuleList& modules, const linux_kernel::ModuleDebugSet& debug);
nlohmann::ordered_json modules_json(const linux_kernel::ModuleList& modules, const linux_kernel::ModuleDebugSet& debug);

}  // namespace coroner::report
