#include "coroner/os/linux/module_debuginfo.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

#include "coroner/format.hpp"

namespace coroner::linux_kernel {
namespace {

namespace fs = std::filesystem;

// Every *.ko under the directories, by normalised module name; the first directory given wins.
std::map<std::string, std::string> find_ko_files(const std::vector<std::string>& dirs,
                                                 std::vector<std::string>& problems) {
  std::map<std::string, std::string> found;
  for (const auto& dir : dirs) {
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      problems.push_back("--modules " + dir + ": " + ec.message());
      continue;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      const fs::path& p = it->path();
      if (p.extension() != ".ko" || !it->is_regular_file(ec)) continue;
      found.emplace(normalised_module_name(p.stem().string()), p.string());
    }
  }
  return found;
}

// "srcversion=..." in the .ko's .modinfo; empty when absent.
std::string srcversion_of(const DebugInfo& debug) {
  auto modinfo = debug.sections()->get(".modinfo");
  std::string_view text(reinterpret_cast<const char*>(modinfo.data()), modinfo.size());
  constexpr std::string_view kKey = "srcversion=";
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\0', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = text.substr(at, end - at);
    if (entry.starts_with(kKey)) return std::string(entry.substr(kKey.size()));
    at = end + 1;
  }
  return "";
}

// Why the .ko is not the build that was loaded, or nullopt when nothing says so: its srcversion,
// or its string sections (read-only, never relocated) against the dump's copy.
std::optional<std::string> other_build(const Kernel& kernel, const DebugInfo& ko, const LoadedModule& m) {
  std::string version = srcversion_of(ko);
  if (!m.srcversion.empty() && !version.empty() && version != m.srcversion) {
    return "srcversion " + version + ", loaded " + m.srcversion;
  }
  for (const ElfSection& s : ko.sections()->all()) {
    auto placed = m.sections.find(s.name);
    if (!s.name.starts_with(".rodata.str") || s.bytes.empty() || placed == m.sections.end()) continue;
    std::vector<uint8_t> loaded(std::min<size_t>(s.bytes.size(), 4096));
    if (!kernel.read(placed->second, loaded)) continue;
    auto mismatch = std::mismatch(loaded.begin(), loaded.end(), s.bytes.begin());
    if (mismatch.first != loaded.end()) {
      return std::string(s.name) + " differs at +" + hex(static_cast<uint64_t>(mismatch.first - loaded.begin()));
    }
  }
  return std::nullopt;
}

SectionPlacement placement_of(const LoadedModule& m) {
  SectionPlacement p;
  for (const auto& [name, address] : m.sections) p.emplace(name, address);
  return p;
}

}  // namespace

std::string normalised_module_name(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

ModuleDebugSet ModuleDebugSet::load(const Kernel& kernel, const ModuleList& modules, const std::vector<std::string>& dirs,
                                    const std::optional<DebugSearch>& search, const IndexCache& cache) {
  ModuleDebugSet set;
  auto files = find_ko_files(dirs, set.problems_);
  for (const LoadedModule& m : modules.modules) {
    std::optional<LocatedDebugFile> file;
    if (auto named = files.find(normalised_module_name(m.name)); named != files.end()) {
      file = LocatedDebugFile{named->second, "by name under the module directories"};
    } else if (search && !m.build_id.empty()) {
      file = locate_module_debug(m.build_id, *search);
    }
    if (!file) continue;
    if (m.sections.empty()) {
      set.problems_.push_back("module " + m.name + ": the dump does not say where its sections were loaded (" +
                              "mod->sect_attrs); " + file->path + " not used");
      continue;
    }
    auto debug = DebugInfo::open(file->path, 1, placement_of(m), cache);
    if (!debug) {
      set.problems_.push_back("module " + m.name + ": " + debug.error().message);
      continue;
    }
    if (auto why = other_build(kernel, **debug, m)) {
      set.problems_.push_back("module " + m.name + ": " + file->path + " is another build (" + *why +
                              "); give the .ko files of the dumped kernel");
      continue;
    }
    set.modules_.push_back({m.name, file->path, file->how, std::move(*debug)});
  }
  return set;
}

const ModuleDebug* ModuleDebugSet::find(std::string_view module) const {
  for (const auto& m : modules_) {
    if (m.module == module) return &m;
  }
  return nullptr;
}

Result<x86_64::OrcTable> module_orc_from_ko(const ModuleDebug& debug, const LoadedModule& module,
                                            const x86_64::OrcLayout& layout) {
  const DwarfSections& sections = *debug.debug->sections();
  auto ips = sections.get(".orc_unwind_ip");
  auto entries = sections.get(".orc_unwind");
  auto placed = module.sections.find(".orc_unwind_ip");
  if (ips.empty() || entries.empty() || placed == module.sections.end()) {
    return make_error(debug.path + ": no ORC tables, or the dump does not say where they were loaded");
  }
  auto relocations = sections.relocations(".orc_unwind_ip");
  if (!relocations) return relocations.error();
  std::vector<uint8_t> relocated(ips.begin(), ips.end());
  auto st = apply_relocations(relocated, *relocations, debug.path + ": .orc_unwind_ip");
  if (!st) return st.error();
  auto table = x86_64::make_orc_table(module.name, relocated, placed->second, entries, layout);
  table.text = module.text_ranges();
  return table;
}

}  // namespace coroner::linux_kernel
