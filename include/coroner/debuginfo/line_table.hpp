#pragma once
// Source lines of code addresses from DWARF's line programs: .debug_aranges finds the unit, the
// unit's line table (decoded once, then kept) finds the row.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "coroner/debuginfo/dwarf_dies.hpp"

namespace coroner {

class LineTables {
 public:
  explicit LineTables(const DieReader& reader) : reader_(reader) {}
  ~LineTables();
  LineTables(const LineTables&) = delete;
  LineTables& operator=(const LineTables&) = delete;

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
  const Table* table_for(uint64_t link_address);
  Table decode(uint64_t cu_offset);

  const DieReader& reader_;
  bool aranges_loaded_ = false;
  void* aranges_ = nullptr;
  long long arange_count_ = 0;
  std::map<uint64_t, Table> tables_;  // by unit offset
};

}  // namespace coroner
