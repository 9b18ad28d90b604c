#pragma once
// A writer of one small DWARF 5 compile unit, DIE by DIE, for tests and fuzz seeds: abbreviations
// declared by code, strings interned into .debug_str, references to DIEs by label (DW_FORM_ref4).
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace coroner::testing {

class DwarfUnitBuilder {
 public:
  using Bytes = std::vector<uint8_t>;
  struct Sections {
    Bytes abbrev, info, str;
  };

  DwarfUnitBuilder();
  // Abbreviation `code`: a DIE of `tag`, with children or not, and its (DW_AT_*, DW_FORM_*) pairs.
  void abbrev(uint64_t code, uint64_t tag, bool children, std::initializer_list<std::pair<uint64_t, uint64_t>> attributes);
  // The next DIE's offset, for ref() before or after it.
  void label(const std::string& name);
  // A DIE's abbreviation code, then its values in the abbreviation's order.
  DwarfUnitBuilder& die(uint64_t code) { return uleb(code); }
  DwarfUnitBuilder& u8(uint8_t v);
  DwarfUnitBuilder& u32(uint32_t v);
  DwarfUnitBuilder& u64(uint64_t v);
  DwarfUnitBuilder& uleb(uint64_t v);
  DwarfUnitBuilder& strp(const std::string& s);     // DW_FORM_strp
  DwarfUnitBuilder& ref(const std::string& label);  // DW_FORM_ref4
  DwarfUnitBuilder& exprloc(std::initializer_list<uint8_t> expression);
  void end_children() { u8(0); }
  // The unit's length and references filled in.
  Sections finish();

 private:
  Bytes abbrev_, info_, str_;
  std::map<std::string, uint32_t> strings_, labels_;
  std::vector<std::pair<size_t, std::string>> refs_;
};

}  // namespace coroner::testing
