#pragma once
// Relocations of a relocatable ELF object (a kernel module's .ko): its DWARF refers to other
// sections and to code through them, so it means nothing until they are applied. Sections are
// placed where the dump says the module's were loaded; unplaced ones (debug sections) sit at 0.
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "coroner/result.hpp"

typedef struct Elf Elf;

namespace coroner {

// Section name -> run-time address.
using SectionPlacement = std::map<std::string, uint64_t, std::less<>>;

struct ResolvedRelocation {
  uint64_t offset = 0;  // into the target section
  uint32_t type = 0;    // R_X86_64_*
  uint64_t value = 0;   // S + A
  uint64_t place = 0;   // P: the run-time address of the relocated field
};

// The relocations that apply to section `target_index`, their symbols resolved against
// `placement`. Relocations against undefined symbols (resolved by the module loader against the
// kernel) are left out: nothing in the debug sections needs them.
Result<std::vector<ResolvedRelocation>> resolve_relocations(Elf* elf, size_t target_index,
                                                            const SectionPlacement& placement,
                                                            const std::string& path);

// Writes the relocations into `bytes` (a copy of the target section); a relocation that does not
// fit or whose type is unknown is an error naming the file, section and offset.
Status apply_relocations(std::span<uint8_t> bytes, const std::vector<ResolvedRelocation>& relocations,
                         const std::string& where);

}  // namespace coroner
