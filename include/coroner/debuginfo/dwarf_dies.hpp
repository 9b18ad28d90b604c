#pragma once
// DIE details, decoded in place from the mapped sections with the same bounds-checked decoder as
// the name index: the unit found by binary search over the unit headers, its abbreviations parsed
// once. Only what building types needs, as plain values.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coroner/debuginfo/dwarf_ranges.hpp"
#include "coroner/debuginfo/dwarf_sections.hpp"
#include "coroner/debuginfo/dwarf_units.hpp"
#include "coroner/result.hpp"

namespace coroner {

// A function's DW_AT_frame_base, in the forms compilers write for x86-64: the CFA
// (DW_OP_call_frame_cfa, gcc) or a register plus an offset (DW_OP_bregN K, clang's rbp).
struct FrameBase {
  bool cfa = false;
  int reg = -1;  // DWARF register number when not the CFA (6 is rbp)
  int64_t offset = 0;
};

struct DieFacts {
  uint64_t offset = 0;
  uint16_t tag = 0;
  std::string name;
  std::optional<uint64_t> byte_size, bit_size;
  std::optional<uint64_t> type;             // .debug_info offset of DW_AT_type
  std::optional<uint64_t> specification;    // DW_AT_specification or DW_AT_abstract_origin
  std::optional<uint64_t> member_location;  // constant or DW_OP_plus_uconst
  std::optional<uint64_t> data_bit_offset;  // DWARF 4+ bit fields
  std::optional<uint64_t> bit_offset;       // DWARF 2/3 bit fields (from the storage unit's MSB)
  std::optional<uint64_t> const_value;      // enumerators, as bits
  std::optional<uint64_t> static_address;   // DW_AT_location that is one DW_OP_addr; DW_AT_low_pc
  std::optional<int64_t> frame_offset;      // DW_AT_location that is one DW_OP_fbreg N: a stack slot
  std::optional<FrameBase> frame_base;      // functions
  bool const_value_signed = false;          // DW_FORM_sdata
  std::optional<uint64_t> upper_bound, count;
  uint64_t lower_bound = 0;
  uint64_t encoding = 0;                    // DW_ATE_*
  bool declaration = false;
  bool prototyped = false;
  bool has_children = false;
  std::optional<uint64_t> stmt_list;        // units: their line program in .debug_line
  std::string comp_dir;                     // units
};

class DieReader {
 public:
  // `units`: .debug_info's unit headers in order (the name index has them).
  static Result<std::unique_ptr<DieReader>> open(const DwarfSections& sections, std::vector<dwarf::UnitHeader> units);
  ~DieReader();
  DieReader(const DieReader&) = delete;
  DieReader& operator=(const DieReader&) = delete;

  Result<DieFacts> read(uint64_t offset) const;
  // The unit DIE of the unit whose header is at `unit_offset` (as .debug_aranges names units).
  Result<DieFacts> read_unit(uint64_t unit_offset) const;
  // The code the unit at `unit_offset` covers, from its unit DIE (low/high pc or its range list);
  // empty when it says none or cannot be read.
  std::vector<dwarf::PcRange> unit_ranges(uint64_t unit_offset) const;
  const std::vector<dwarf::UnitHeader>& units() const;
  // The children's facts, in order (members, enumerators, parameters, subranges).
  Result<std::vector<DieFacts>> children(uint64_t offset) const;

 private:
  struct Impl;
  explicit DieReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coroner
