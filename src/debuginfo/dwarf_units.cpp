#include "coroner/debuginfo/dwarf_units.hpp"

#include <libdwarf/dwarf.h>

#include <cstring>

namespace coroner::dwarf {

Cursor::Cursor(std::span<const uint8_t> bytes, uint64_t offset)
    : begin_(bytes.data()), p_(bytes.data()), end_(bytes.data() + bytes.size()) {
  seek(offset);
}

void Cursor::seek(uint64_t offset) {
  if (offset > static_cast<uint64_t>(end_ - begin_)) {
    fail();
    return;
  }
  p_ = begin_ + offset;
}

void Cursor::limit(uint64_t end_offset) {
  if (end_offset < static_cast<uint64_t>(end_ - begin_)) end_ = begin_ + end_offset;
  if (p_ > end_) p_ = end_;
}

void Cursor::fail() {
  ok_ = false;
  p_ = end_;
}

bool Cursor::need(uint64_t n) {
  if (static_cast<uint64_t>(end_ - p_) < n) {
    fail();
    return false;
  }
  return true;
}

uint8_t Cursor::u8() { return need(1) ? *p_++ : 0; }

uint64_t Cursor::uint(unsigned size) {
  // A size a hostile header chose (an address size of 9) is not a value this reads.
  if (size > sizeof(uint64_t)) fail();
  if (!need(size)) return 0;
  uint64_t v = 0;
  std::memcpy(&v, p_, size);  // little-endian host and target (x86-64)
  p_ += size;
  return v;
}
uint16_t Cursor::u16() { return static_cast<uint16_t>(uint(2)); }
uint32_t Cursor::u32() { return static_cast<uint32_t>(uint(4)); }
uint64_t Cursor::u64() { return uint(8); }

uint64_t Cursor::leb(bool is_signed) {
  uint64_t v = 0;
  unsigned shift = 0;
  while (p_ < end_) {
    uint8_t b = *p_++;
    if (shift < 64) v |= static_cast<uint64_t>(b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) {
      if (is_signed && shift < 64 && (b & 0x40)) v |= ~uint64_t{0} << shift;
      return v;
    }
  }
  ok_ = false;
  return 0;
}

uint64_t Cursor::uleb() { return leb(false); }
int64_t Cursor::sleb() { return static_cast<int64_t>(leb(true)); }

void Cursor::skip(uint64_t n) {
  if (need(n)) p_ += n;
}

std::span<const uint8_t> Cursor::take(uint64_t n) {
  if (!need(n)) return {};
  std::span<const uint8_t> out(p_, static_cast<size_t>(n));
  p_ += n;
  return out;
}

std::string_view Cursor::cstr() {
  const void* nul = std::memchr(p_, 0, static_cast<size_t>(end_ - p_));
  if (!nul) {
    fail();
    return {};
  }
  std::string_view s(reinterpret_cast<const char*>(p_), static_cast<const uint8_t*>(nul) - p_);
  p_ = static_cast<const uint8_t*>(nul) + 1;
  return s;
}

int fixed_form_size(uint16_t form, uint8_t address_size, uint8_t offset_size, uint16_t version) {
  switch (form) {
    case DW_FORM_addr: return address_size;
    case DW_FORM_data1: case DW_FORM_ref1: case DW_FORM_flag: case DW_FORM_strx1: case DW_FORM_addrx1: return 1;
    case DW_FORM_data2: case DW_FORM_ref2: case DW_FORM_strx2: case DW_FORM_addrx2: return 2;
    case DW_FORM_strx3: case DW_FORM_addrx3: return 3;
    case DW_FORM_data4: case DW_FORM_ref4: case DW_FORM_strx4: case DW_FORM_addrx4: case DW_FORM_ref_sup4: return 4;
    case DW_FORM_data8: case DW_FORM_ref8: case DW_FORM_ref_sig8: case DW_FORM_ref_sup8: return 8;
    case DW_FORM_data16: return 16;
    case DW_FORM_strp: case DW_FORM_line_strp: case DW_FORM_sec_offset: case DW_FORM_strp_sup:
    case DW_FORM_GNU_strp_alt: case DW_FORM_GNU_ref_alt: return offset_size;
    case DW_FORM_ref_addr: return version <= 2 ? address_size : offset_size;
    case DW_FORM_flag_present: case DW_FORM_implicit_const: return 0;
    default: return -1;
  }
}

namespace {
void precompute_fixed_layout(Abbrev& a, uint8_t address_size, uint8_t offset_size, uint16_t version) {
  int32_t at = 0;
  for (const auto& spec : a.attrs) {
    int size = fixed_form_size(spec.form, address_size, offset_size, version);
    if (size < 0 || spec.form == DW_FORM_implicit_const) return;  // implicit values need the spec
    if (spec.name == DW_AT_name) a.name_at = at, a.name_form = spec.form;
    if (spec.name == DW_AT_declaration) a.declaration_at = at, a.declaration_form = spec.form;
    if (spec.name == DW_AT_sibling) a.sibling_at = at, a.sibling_form = spec.form;
    at += size;
  }
  a.fixed_size = at;
}
}  // namespace

std::optional<AbbrevTable> AbbrevTable::parse(std::span<const uint8_t> debug_abbrev, uint64_t offset,
                                              uint8_t address_size, uint8_t offset_size, uint16_t version) {
  AbbrevTable table;
  if (!table.parse_into(debug_abbrev, offset, address_size, offset_size, version)) return std::nullopt;
  return table;
}

bool AbbrevTable::parse_into(std::span<const uint8_t> debug_abbrev, uint64_t offset, uint8_t address_size,
                             uint8_t offset_size, uint16_t version) {
  AbbrevTable& table = *this;
  table.specs_.clear();
  table.dense_.clear();
  table.sparse_.clear();
  Cursor c(debug_abbrev, offset);
  while (c.ok()) {
    uint64_t code = c.uleb();
    if (code == 0) break;
    Abbrev a;
    a.tag = static_cast<uint16_t>(c.uleb());
    a.has_children = c.u8() != 0;
    size_t first = table.specs_.size();
    for (;;) {
      AttrSpec spec;
      spec.name = static_cast<uint16_t>(c.uleb());
      spec.form = static_cast<uint16_t>(c.uleb());
      if (spec.form == DW_FORM_implicit_const) spec.implicit_const = c.sleb();
      if (!c.ok()) return false;
      if (spec.name == 0 && spec.form == 0) break;
      table.specs_.push_back(spec);
    }
    // Where its attributes are, until specs_ stops growing and spans can be taken.
    a.first_attr = static_cast<uint32_t>(first);
    a.attr_count = static_cast<uint32_t>(table.specs_.size() - first);
    if (code < 1u << 16) {
      if (table.dense_.size() <= code) table.dense_.resize(code + 1);
      table.dense_[code] = a;
    } else {
      table.sparse_.emplace_back(code, a);
    }
  }
  if (!c.ok()) return false;
  auto place = [&](Abbrev& a) {
    if (!a.tag) return;
    a.attrs = std::span<const AttrSpec>(table.specs_).subspan(a.first_attr, a.attr_count);
    precompute_fixed_layout(a, address_size, offset_size, version);
  };
  for (auto& a : table.dense_) place(a);
  for (auto& [code, a] : table.sparse_) place(a);
  return true;
}

const Abbrev* AbbrevTable::find(uint64_t code) const {
  if (code < dense_.size()) return dense_[code].tag ? &dense_[code] : nullptr;
  for (const auto& [c, a] : sparse_) {
    if (c == code) return &a;
  }
  return nullptr;
}

std::string_view string_at(std::span<const uint8_t> section, uint64_t offset) {
  if (offset >= section.size()) return {};
  const auto* p = section.data() + offset;
  const void* nul = std::memchr(p, 0, section.size() - offset);
  if (!nul) return {};
  return {reinterpret_cast<const char*>(p), static_cast<size_t>(static_cast<const uint8_t*>(nul) - p)};
}

UnitList read_unit_headers(std::span<const uint8_t> debug_info) {
  UnitList list;
  Cursor c(debug_info);
  while (!c.at_end()) {
    UnitHeader u;
    u.offset = c.offset();
    uint64_t length = c.u32();
    if (length == 0xffffffff) {
      length = c.u64();
      u.offset_size = 8;
    } else if (length >= 0xfffffff0) {
      c.seek(debug_info.size() + 1);  // reserved values: not DWARF
    }
    uint64_t body = c.offset();
    u.end = body + length;
    u.version = c.u16();
    if (u.version >= 5) {
      u.unit_type = c.u8();
      u.address_size = c.u8();
      u.abbrev_offset = c.uint(u.offset_size);
      if (u.unit_type == DW_UT_skeleton || u.unit_type == DW_UT_split_compile) c.skip(8);
      if (u.unit_type == DW_UT_type || u.unit_type == DW_UT_split_type) c.skip(8 + u.offset_size);
    } else {
      u.unit_type = DW_UT_compile;
      u.abbrev_offset = c.uint(u.offset_size);
      u.address_size = c.u8();
    }
    u.first_die = c.offset();
    bool sane = c.ok() && u.version >= 2 && u.version <= 5 && u.end <= debug_info.size() && u.end > u.first_die &&
                (u.address_size == 4 || u.address_size == 8);
    if (!sane) {
      list.complete = false;
      list.bad_offset = u.offset;
      break;
    }
    list.units.push_back(u);
    c.seek(u.end);
  }
  return list;
}

bool read_form(Cursor& c, const UnitHeader& unit, uint16_t form, int64_t implicit_const, FormValue& out) {
  out.is_text = false;
  out.form = form;
  switch (form) {
    case DW_FORM_addr: out.value = c.uint(unit.address_size); return true;
    case DW_FORM_data1: case DW_FORM_ref1: case DW_FORM_flag: case DW_FORM_strx1: case DW_FORM_addrx1:
      out.value = c.u8(); return true;
    case DW_FORM_data2: case DW_FORM_ref2: case DW_FORM_strx2: case DW_FORM_addrx2:
      out.value = c.u16(); return true;
    case DW_FORM_strx3: case DW_FORM_addrx3: out.value = c.uint(3); return true;
    case DW_FORM_data4: case DW_FORM_ref4: case DW_FORM_strx4: case DW_FORM_addrx4: case DW_FORM_ref_sup4:
      out.value = c.u32(); return true;
    case DW_FORM_data8: case DW_FORM_ref8: case DW_FORM_ref_sig8: case DW_FORM_ref_sup8:
      out.value = c.u64(); return true;
    case DW_FORM_data16: c.skip(16); out.value = 0; return true;
    case DW_FORM_sdata: out.value = static_cast<uint64_t>(c.sleb()); return true;
    case DW_FORM_udata: case DW_FORM_ref_udata: case DW_FORM_strx: case DW_FORM_addrx:
    case DW_FORM_loclistx: case DW_FORM_rnglistx: case DW_FORM_GNU_addr_index: case DW_FORM_GNU_str_index:
      out.value = c.uleb(); return true;
    case DW_FORM_strp: case DW_FORM_line_strp: case DW_FORM_sec_offset: case DW_FORM_strp_sup:
    case DW_FORM_GNU_strp_alt: case DW_FORM_GNU_ref_alt:
      out.value = c.uint(unit.offset_size); return true;
    case DW_FORM_ref_addr: out.value = c.uint(unit.version <= 2 ? unit.address_size : unit.offset_size); return true;
    case DW_FORM_string: out.text = c.cstr(); out.is_text = true; return true;
    case DW_FORM_flag_present: out.value = 1; return true;
    case DW_FORM_implicit_const: out.value = static_cast<uint64_t>(implicit_const); return true;
    case DW_FORM_block1: out.block = c.take(c.u8()); return true;
    case DW_FORM_block2: out.block = c.take(c.u16()); return true;
    case DW_FORM_block4: out.block = c.take(c.u32()); return true;
    case DW_FORM_block: case DW_FORM_exprloc: out.block = c.take(c.uleb()); return true;
    case DW_FORM_indirect: {
      auto real = static_cast<uint16_t>(c.uleb());
      if (real == DW_FORM_indirect || real == DW_FORM_implicit_const) return false;
      return read_form(c, unit, real, 0, out);
    }
    default: return false;
  }
}

}  // namespace coroner::dwarf
