#pragma once
// Loaded kernel modules, read from the dump itself: each struct module's name, where its code
// and data were loaded, its in-memory kallsyms (so backtraces name module functions with no .ko
// at hand) and its ORC tables (so unwinding crosses module code).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coroner/arch/x86_64_orc.hpp"
#include "coroner/target/code_location.hpp"
#include "coroner/target/object.hpp"

namespace coroner::linux_kernel {

struct ModuleSymbol {
  uint64_t address = 0, size = 0;
  std::string name;
};

// One allocation (or part of one) of a module's memory: its text, data, read-only data, and the
// init code and data while its init function runs.
struct ModuleRegion {
  std::string kind;  // "text", "data", "rodata", "ro_after_init", "init_text", ... ("core", "init")
  uint64_t start = 0, size = 0;
  bool text = false, init = false;
  bool contains(uint64_t a) const { return a >= start && a - start < size; }
};

struct LoadedModule {
  uint64_t address = 0;  // struct module
  std::string name;
  // Where its text starts and how much memory it keeps after its init code is freed (crash's BASE
  // and SIZE; /proc/modules's address and size once the module is live).
  uint64_t base = 0, size = 0, text_size = 0;
  std::vector<ModuleRegion> regions;
  std::string state;                          // "live", "coming", "going", "unformed"
  std::vector<ModuleSymbol> symbols;          // sorted by address
  uint64_t orc_ip = 0, orc = 0;               // run-time addresses of its ORC tables
  uint32_t orc_count = 0;
  std::string srcversion;                     // modpost's checksum of the sources; empty if none
  std::string build_id;                       // hex, from its loaded .note.gnu.build-id; empty if none
  // Where each ELF section was loaded (sysfs's /sys/module/*/sections), to relocate the .ko.
  std::map<std::string, uint64_t, std::less<>> sections;
  bool contains(uint64_t a) const;
  bool in_text(uint64_t a) const;
  // Its text ranges, [start, end): the core's, and the init code's while loaded.
  std::vector<std::pair<uint64_t, uint64_t>> text_ranges() const;
  // The text range, or else the region, holding `a` (it must be in the module).
  std::pair<uint64_t, uint64_t> region_of(uint64_t a) const;
};

struct ModuleList {
  std::vector<LoadedModule> modules;
  std::vector<std::string> problems;
  const LoadedModule* containing(uint64_t address) const;
};

Result<ModuleList> read_modules(TypedMemory& objects);

// A return address is looked up at address - 1, as the kernel's %pB does: a call to a noreturn
// function can be the last instruction of its caller.
CodeLocation locate_code(const Kernel& kernel, const ModuleList* modules, uint64_t address,
                         bool return_address = false);
// Kernel and module text: what a return address may point into.
class TextRanges {
 public:
  TextRanges(const Kernel& kernel, const ModuleList* modules);
  bool contains(uint64_t address) const;

 private:
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;
};

// struct orc_entry's bit layout, from the kernel's DWARF (the pre-6.4 one when it has none).
x86_64::OrcLayout orc_layout(TypedMemory& objects);
// The ORC tables of the vmlinux (its sections, KASLR applied) and of every module in the dump.
x86_64::OrcIndex load_orc(TypedMemory& objects, const ModuleList* modules, std::vector<std::string>& problems);

}  // namespace coroner::linux_kernel
