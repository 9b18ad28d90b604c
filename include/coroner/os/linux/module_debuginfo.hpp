#pragma once
// Loaded modules' own debug info, from their .ko files (`--modules DIR`, e.g. Debian's
// /usr/lib/debug/lib/modules/<release>): each .ko's DWARF relocated to where the dump says the
// module's sections were loaded, so the types a module defines print, its variables resolve, its
// frames get file:line, and its ORC tables can stand in for an unreadable in-memory copy.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/arch/x86_64_orc.hpp"
#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/debuginfo/debug_locator.hpp"
#include "coroner/os/linux/modules.hpp"

namespace coroner::linux_kernel {

struct ModuleDebug {
  std::string module;  // the name in the dump
  std::string path;    // the .ko it came from
  std::string how;     // "under DIR", or how it was found by build-id
  std::unique_ptr<DebugInfo> debug;
};

class ModuleDebugSet {
 public:
  // Finds each loaded module's .ko under `dirs` (searched recursively; '-' and '_' are the same
  // in module names), relocates it, and skips one that is another build than the loaded module
  // (srcversion, or the bytes of its read-only strings in the dump). What could not be loaded is
  // in problems(), with what to do about it.
  // A module no .ko under `dirs` is named for is looked for by its build-id (`search`: the debug
  // directories' .build-id/, then debuginfod), when the dump says it. Their name indexes are kept
  // in `cache`.
  static ModuleDebugSet load(const Kernel& kernel, const ModuleList& modules, const std::vector<std::string>& dirs,
                             const std::optional<DebugSearch>& search = std::nullopt,
                             const IndexCache& cache = IndexCache({}));

  const ModuleDebug* find(std::string_view module) const;
  const std::vector<ModuleDebug>& all() const { return modules_; }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<ModuleDebug> modules_;
  std::vector<std::string> problems_;
};

// The module's ORC tables from its .ko: `.orc_unwind_ip` relocated against the load addresses.
Result<x86_64::OrcTable> module_orc_from_ko(const ModuleDebug& debug, const LoadedModule& module,
                                            const x86_64::OrcLayout& layout);

// "virtio-rng" and "virtio_rng" are one module.
std::string normalised_module_name(std::string_view name);

}  // namespace coroner::linux_kernel
