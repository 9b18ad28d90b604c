#include "coroner/report/module_report.hpp"

#include <cstdio>

#include "coroner/format.hpp"

namespace coroner::report {
using namespace linux_kernel;

std::string modules_text(const ModuleList& modules, const ModuleDebugSet& debug) {
  std::string out = "     MODULE       NAME                     BASE         SIZE  SYMBOLS  ORC  OBJECT FILE\n";
  for (const LoadedModule& m : modules.modules) {
    const ModuleDebug* ko = debug.find(m.name);
    char buf[200];
    std::snprintf(buf, sizeof buf, "%016llx  %-20s  %016llx  %7llu  %7zu  %4u  ",
                  static_cast<unsigned long long>(m.address), m.name.c_str(), static_cast<unsigned long long>(m.base),
                  static_cast<unsigned long long>(m.size), m.symbols.size(), m.orc_count);
    out += buf + (ko ? ko->path : "(not loaded)") + "\n";
  }
  return out;
}

nlohmann::ordered_json modules_json(const ModuleList& modules, const ModuleDebugSet& debug) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const LoadedModule& m : modules.modules) {
    const ModuleDebug* ko = debug.find(m.name);
    nlohmann::ordered_json regions = nlohmann::ordered_json::array();
    for (const ModuleRegion& r : m.regions) regions.push_back({{"kind", r.kind}, {"start", hex(r.start)}, {"size", r.size}});
    list.push_back({{"name", m.name}, {"module", hex(m.address)}, {"base", hex(m.base)}, {"size", m.size},
                    {"text_size", m.text_size}, {"regions", regions}, {"state", m.state}, {"symbols", m.symbols.size()},
                    {"orc_entries", m.orc_count},
                    {"object_file", ko ? nlohmann::ordered_json(ko->path) : nlohmann::ordered_json(nullptr)}});
  }
  return {{"schema", "coroner.mod"}, {"modules", list}, {"problems", modules.problems}};
}

}  // namespace coroner::report
