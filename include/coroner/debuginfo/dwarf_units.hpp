#pragma once
// The raw layer under the type index: bounds-checked decoding of .debug_info units, abbreviation
// tables and attribute forms (DWARF 2-5), fast enough to walk all 174 MB of a vmlinux's DIEs.
// libdwarf reads the details of the DIEs this layer finds.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace coroner::dwarf {

// A cursor that never reads past its end: a read past it returns 0 and clears ok().
class Cursor {
 public:
  Cursor() = default;
  Cursor(std::span<const uint8_t> bytes, uint64_t offset = 0);
  bool ok() const { return ok_; }
  uint64_t offset() const { return static_cast<uint64_t>(p_ - begin_); }
  bool at_end() const { return p_ >= end_; }
  uint64_t remaining() const { return static_cast<uint64_t>(end_ - p_); }
  void seek(uint64_t offset);
  void limit(uint64_t end_offset);  // narrow the end (a unit's end)

  uint8_t u8();
  uint16_t u16();
  uint32_t u32();
  uint64_t u64();
  uint64_t uint(unsigned size);  // 0 to 8 bytes; a larger size fails the cursor
  uint64_t uleb();
  int64_t sleb();
  void skip(uint64_t n);
  std::span<const uint8_t> take(uint64_t n);  // the next n bytes, in place
  std::string_view cstr();  // NUL-terminated, in place

 private:
  void fail();  // the cursor is spent: every later read gives 0 and ok() stays false
  bool need(uint64_t n);
  uint64_t leb(bool is_signed);
  const uint8_t* begin_ = nullptr;
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  bool ok_ = true;
};

struct AttrSpec {
  uint16_t name = 0;
  uint16_t form = 0;
  int64_t implicit_const = 0;
};

struct Abbrev {
  uint16_t tag = 0;
  bool has_children = false;
  std::span<const AttrSpec> attrs;  // into the table's one array
  uint32_t first_attr = 0, attr_count = 0;  // the same, as indexes
  // When every attribute has a fixed size (most DIEs): the DIE's size after its code, and where
  // (byte offset after the code, -1 if absent) the attributes indexing needs sit. Saves decoding.
  int32_t fixed_size = -1;
  int32_t name_at = -1, declaration_at = -1, sibling_at = -1;
  uint16_t name_form = 0, declaration_form = 0, sibling_form = 0;
};

// The size of an attribute of `form`, or -1 when it is variable (LEB128, strings, blocks).
int fixed_form_size(uint16_t form, uint8_t address_size, uint8_t offset_size, uint16_t version);

// One abbreviation table (.debug_abbrev at an offset), codes looked up in O(1) when dense.
class AbbrevTable {
 public:
  // Sizes of the units that use it, to precompute the fixed layouts.
  static std::optional<AbbrevTable> parse(std::span<const uint8_t> debug_abbrev, uint64_t offset,
                                          uint8_t address_size = 8, uint8_t offset_size = 4, uint16_t version = 5);
  // The same into a table already allocated (its storage reused: the indexer parses thousands).
  bool parse_into(std::span<const uint8_t> debug_abbrev, uint64_t offset, uint8_t address_size, uint8_t offset_size,
                  uint16_t version);
  AbbrevTable() = default;
  AbbrevTable(AbbrevTable&&) = default;  // the spans point into specs_'s heap block, which moves along
  AbbrevTable& operator=(AbbrevTable&&) = default;
  const Abbrev* find(uint64_t code) const;

 private:
  std::vector<AttrSpec> specs_;
  std::vector<Abbrev> dense_;  // index = code; tag 0 marks unused codes
  std::vector<std::pair<uint64_t, Abbrev>> sparse_;
};

struct UnitHeader {
  uint64_t offset = 0;        // of the unit header in .debug_info
  uint64_t end = 0;           // one past the unit
  uint64_t first_die = 0;     // offset of the unit DIE
  uint64_t abbrev_offset = 0;
  uint16_t version = 0;
  uint8_t unit_type = 0;
  uint8_t address_size = 8;
  uint8_t offset_size = 4;    // 8 in 64-bit DWARF
};

// The NUL-terminated string at `offset` of a string section (.debug_str, .debug_line_str); empty
// when the offset or the terminator is outside it.
std::string_view string_at(std::span<const uint8_t> section, uint64_t offset);

// Which parsed abbreviation table a unit can use: its offset and everything the precomputed
// layouts depend on (address size, offset size, version).
inline uint64_t abbrev_key(const UnitHeader& u) {
  return u.abbrev_offset ^ (uint64_t{u.address_size} << 56) ^ (uint64_t{u.offset_size} << 52) ^ (uint64_t{u.version} << 48);
}

// Every unit of .debug_info, in order; stops at the first malformed header (`complete` false).
struct UnitList {
  std::vector<UnitHeader> units;
  bool complete = true;
  uint64_t bad_offset = 0;
};
UnitList read_unit_headers(std::span<const uint8_t> debug_info);

// Decodes one attribute value of `form`, advancing the cursor; false on an unknown form.
// Integer-like forms yield `value`; DW_FORM_string yields `text`; blocks and expressions `block`.
// DW_FORM_indirect yields the form it names in `form`; every other form leaves `form` as given.
struct FormValue {
  uint64_t value = 0;
  std::string_view text;
  bool is_text = false;
  std::span<const uint8_t> block;
  uint16_t form = 0;
};
bool read_form(Cursor& c, const UnitHeader& unit, uint16_t form, int64_t implicit_const, FormValue& out);

}  // namespace coroner::dwarf
