#pragma once
// The DWARF sections of an ELF file, mapped (never copied): the raw index scans them in place and
// libdwarf reads them through its object-access interface with the same pointers. A relocatable
// file (a module's .ko) is the exception: its debug sections are copied and relocated, placing its
// code where the dump says the module was loaded.
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/debuginfo/elf_relocations.hpp"
#include "coroner/result.hpp"

typedef struct Elf Elf;

namespace coroner {

struct ElfSection {
  std::string_view name;
  uint64_t address = 0, type = 0, link = 0, info = 0, entsize = 0;
  std::span<const uint8_t> bytes;  // empty for SHT_NOBITS and sections outside the file
};

class DwarfSections {
 public:
  static Result<std::unique_ptr<DwarfSections>> open(const std::string& path,
                                                      const SectionPlacement& placement = {});
  // Sections already in memory (a fuzzer's input): not relocatable, no build-id. Their names must
  // be NUL-terminated (libdwarf reads them as C strings); names and bytes must outlive the object.
  static std::unique_ptr<DwarfSections> in_memory(std::string description, std::vector<ElfSection> sections);
  ~DwarfSections();
  DwarfSections(const DwarfSections&) = delete;
  DwarfSections& operator=(const DwarfSections&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<ElfSection>& all() const { return sections_; }
  // A section's bytes by name (".debug_info"); empty when absent.
  std::span<const uint8_t> get(std::string_view name) const;
  bool relocatable() const { return relocatable_; }
  // The file's GNU build-id in hex; empty when it has none.
  std::string build_id() const;
  // The relocations of a section of a relocatable file, resolved against the placement.
  Result<std::vector<ResolvedRelocation>> relocations(std::string_view section) const;

 private:
  DwarfSections() = default;
  Status load(const std::string& path);
  Status relocate_debug_sections();

  std::string path_;
  SectionPlacement placement_;
  bool relocatable_ = false;
  std::deque<std::vector<uint8_t>> relocated_;  // the relocated copies the spans point into
  int fd_ = -1;
  Elf* elf_ = nullptr;
  std::vector<ElfSection> sections_;
};

}  // namespace coroner
