#pragma once
// DWARF's line programs (.debug_line, versions 2 to 5) and address-range tables (.debug_aranges),
// decoded in place with the bounds-checked cursor: which unit covers a code address, and which
// source line an address of that unit is.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/result.hpp"

namespace coroner::dwarf {

struct LineSections {
  std::span<const uint8_t> line, str, line_str;
};

struct LineRow {
  uint64_t address = 0;
  uint32_t file = 0;  // index into LineProgram::files
  uint32_t line = 0;
  bool end_sequence = false;
};

struct LineProgram {
  std::vector<LineRow> rows;        // in the program's order
  std::vector<std::string> files;   // each file's path: its directory joined to its name, the
                                    // unit's directory (comp_dir) before a relative directory
};

// The line program at `offset` in .debug_line; `comp_dir` is its unit's DW_AT_comp_dir. The rows
// decoded before a malformed opcode are kept; an unreadable header is an error.
Result<LineProgram> decode_line_program(const LineSections& sections, uint64_t offset, std::string_view comp_dir);

struct AddressRange {
  uint64_t begin = 0, end = 0;  // [begin, end)
  uint64_t unit = 0;            // .debug_info offset of the unit
};
struct AddressRanges {
  std::vector<AddressRange> ranges;  // sorted by begin
  std::vector<uint64_t> units;       // every unit a set names, sorted, whether it covers code or not
};
// Every range of .debug_aranges; the sets after a malformed one are left out.
AddressRanges read_address_ranges(std::span<const uint8_t> aranges);

}  // namespace coroner::dwarf
