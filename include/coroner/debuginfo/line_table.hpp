#pragma once
// Source lines of code addresses: .debug_aranges finds the unit (the unit DIE's own ranges for the
// units it does not name), the unit's line program (decoded once, then kept) finds the row.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coroner/debuginfo/dwarf_dies.hpp"
#include "coroner/debuginfo/dwarf_sections.hpp"
#include "coroner/debuginfo/line_program.hpp"

namespace coroner {

class LineTables {
 public:
  LineTables(const DwarfSections& sections, const DieReader& dies) : sections_(sections), dies_(dies) {}

  // "kernel/sched/core.c:6524" for a link-time address; empty when no line program covers it.
  std::string line_of(uint64_t link_address);

 private:
  struct Row {
    uint64_t address;
    uint32_t file, line;
    bool end_sequence;
  };
  struct Table {
    std::vector<Row> rows;  // sorted by address
    std::vector<std::string> files;
  };
  const std::vector<dwarf::AddressRange>& ranges();
  const Table* table_for(uint64_t link_address);
  Table decode(uint64_t cu_offset);

  const DwarfSections& sections_;
  const DieReader& dies_;
  std::optional<std::vector<dwarf::AddressRange>> ranges_;
  std::map<uint64_t, Table> tables_;  // by unit offset
};

}  // namespace coroner
