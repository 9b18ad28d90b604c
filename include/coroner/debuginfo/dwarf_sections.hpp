#pragma once
// The DWARF sections of an ELF file, mapped (never copied): the raw index scans them in place and
// libdwarf reads them through its object-access interface with the same pointers.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
  static Result<std::unique_ptr<DwarfSections>> open(const std::string& path);
  ~DwarfSections();
  DwarfSections(const DwarfSections&) = delete;
  DwarfSections& operator=(const DwarfSections&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<ElfSection>& all() const { return sections_; }
  // A section's bytes by name (".debug_info"); empty when absent.
  std::span<const uint8_t> get(std::string_view name) const;

 private:
  DwarfSections() = default;
  Status load(const std::string& path);

  std::string path_;
  int fd_ = -1;
  Elf* elf_ = nullptr;
  std::vector<ElfSection> sections_;
};

}  // namespace coroner
