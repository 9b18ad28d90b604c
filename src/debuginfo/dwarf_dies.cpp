#include "coroner/debuginfo/dwarf_dies.hpp"

#include <libdwarf/dwarf.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "coroner/debuginfo/dwarf_ranges.hpp"
#include "coroner/debuginfo/dwarf_units.hpp"
#include "coroner/format.hpp"

namespace coroner {

namespace {

using dwarf::AbbrevTable;
using dwarf::Cursor;
using dwarf::FormValue;
using dwarf::UnitHeader;
using dwarf::string_at;

// The one operand after an expression's single operation `op`, as LEB128.
std::optional<int64_t> single_operand(std::span<const uint8_t> e, uint8_t op, bool is_signed) {
  if (e.size() < 2 || e[0] != op) return std::nullopt;
  dwarf::Cursor c(e.subspan(1));
  int64_t v = is_signed ? c.sleb() : static_cast<int64_t>(c.uleb());
  return c.ok() && c.at_end() ? std::optional(v) : std::nullopt;
}

// Member locations older compilers wrote as an expression: DW_OP_plus_uconst N.
std::optional<uint64_t> plus_uconst(std::span<const uint8_t> e) {
  auto v = single_operand(e, DW_OP_plus_uconst, false);
  return v ? std::optional(static_cast<uint64_t>(*v)) : std::nullopt;
}

// A variable's location when it is a fixed address: exactly DW_OP_addr A.
std::optional<uint64_t> single_address(std::span<const uint8_t> e) {
  if (e.size() != 9 || e[0] != DW_OP_addr) return std::nullopt;
  uint64_t address = 0;
  std::memcpy(&address, e.data() + 1, sizeof address);
  return address;
}

// A local's location when it is one stack slot: exactly DW_OP_fbreg N.
std::optional<int64_t> frame_slot(std::span<const uint8_t> e) { return single_operand(e, DW_OP_fbreg, true); }

std::optional<FrameBase> frame_base(std::span<const uint8_t> e) {
  if (e.size() == 1 && e[0] == DW_OP_call_frame_cfa) return FrameBase{true, -1, 0};
  if (e.empty() || e[0] < DW_OP_breg0 || e[0] > DW_OP_breg31) return std::nullopt;
  auto offset = single_operand(e, e[0], true);
  return offset ? std::optional(FrameBase{false, e[0] - DW_OP_breg0, *offset}) : std::nullopt;
}

// A constant as libdwarf's formudata/formsdata read it: data forms, LEB128 and implicit values.
std::optional<uint64_t> constant(const FormValue& v) {
  switch (v.form) {
    case DW_FORM_data1: case DW_FORM_data2: case DW_FORM_data4: case DW_FORM_data8:
    case DW_FORM_udata: case DW_FORM_sdata: case DW_FORM_implicit_const:
      return v.value;
    default: return std::nullopt;
  }
}

bool is_signed(uint16_t form) { return form == DW_FORM_sdata || form == DW_FORM_implicit_const; }

// A reference to another DIE, as a .debug_info offset.
std::optional<uint64_t> reference(const FormValue& v, const UnitHeader& unit) {
  switch (v.form) {
    case DW_FORM_ref1: case DW_FORM_ref2: case DW_FORM_ref4: case DW_FORM_ref8: case DW_FORM_ref_udata:
      return unit.offset + v.value;
    case DW_FORM_ref_addr: return v.value;
    default: return std::nullopt;  // type units' signatures and supplementary files are not read
  }
}

}  // namespace

struct DieReader::Impl {
  std::string path;
  std::span<const uint8_t> info, abbrev, str, line_str, str_offsets, addr, ranges, rnglists;
  std::vector<UnitHeader> units;
  // Per unit (by index): the bases of its string-offset and address tables, read on first use.
  struct Bases {
    uint64_t str_offsets = 0, addr = 0;
  };
  mutable std::unordered_map<size_t, Bases> bases;
  mutable std::unordered_map<uint64_t, std::optional<AbbrevTable>> abbrevs;
  // Which unit each range list was read for (.debug_rnglists offsets with the top bit set): a unit
  // has its own list, so a hostile file naming one long list from every unit costs it once.
  mutable std::unordered_map<uint64_t, uint64_t> list_owners;

  bool owns_list(uint64_t list, const UnitHeader& u) const {
    return list_owners.emplace(list, u.offset).first->second == u.offset;
  }

  Error error(uint64_t offset, const std::string& what) const {
    return make_error(path + ": .debug_info+" + hex(offset) + ": " + what);
  }

  // The unit holding a DIE at `offset`, by binary search over the headers.
  const UnitHeader* unit_of(uint64_t offset, size_t* index = nullptr) const {
    auto it = std::upper_bound(units.begin(), units.end(), offset, [](uint64_t o, const UnitHeader& u) { return o < u.offset; });
    if (it == units.begin()) return nullptr;
    --it;
    if (offset < it->first_die || offset >= it->end) return nullptr;
    if (index) *index = static_cast<size_t>(it - units.begin());
    return &*it;
  }

  const AbbrevTable* abbrev_table(const UnitHeader& u) const {
    uint64_t key = dwarf::abbrev_key(u);
    auto it = abbrevs.find(key);
    if (it == abbrevs.end()) {
      it = abbrevs.emplace(key, AbbrevTable::parse(abbrev, u.abbrev_offset, u.address_size, u.offset_size, u.version)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

  // DW_AT_str_offsets_base and DW_AT_addr_base from the unit's own DIE; DWARF 5's header sizes
  // when it has none.
  const Bases& bases_of(const UnitHeader& u, size_t index) const {
    auto it = bases.find(index);
    if (it != bases.end()) return it->second;
    Bases b{u.version >= 5 ? 8u : 0u, u.version >= 5 ? 8u : 0u};
    const AbbrevTable* table = abbrev_table(u);
    Cursor c(info, u.first_die);
    c.limit(u.end);
    const dwarf::Abbrev* a = table ? table->find(c.uleb()) : nullptr;
    for (size_t i = 0; a && i < a->attrs.size() && c.ok(); ++i) {
      FormValue v;
      if (!dwarf::read_form(c, u, a->attrs[i].form, a->attrs[i].implicit_const, v)) break;
      if (a->attrs[i].name == DW_AT_str_offsets_base) b.str_offsets = v.value;
      if (a->attrs[i].name == DW_AT_addr_base || a->attrs[i].name == DW_AT_GNU_addr_base) b.addr = v.value;
    }
    return bases.emplace(index, b).first->second;
  }

  std::string_view string(const FormValue& v, const UnitHeader& u, size_t index) const {
    switch (v.form) {
      case DW_FORM_string: return v.text;
      case DW_FORM_strp: return string_at(str, v.value);
      case DW_FORM_line_strp: return string_at(line_str, v.value);
      case DW_FORM_strx: case DW_FORM_strx1: case DW_FORM_strx2: case DW_FORM_strx3: case DW_FORM_strx4:
      case DW_FORM_GNU_str_index: {
        Cursor c(str_offsets, bases_of(u, index).str_offsets + v.value * u.offset_size);
        uint64_t offset = c.uint(u.offset_size);
        return c.ok() ? string_at(str, offset) : std::string_view{};
      }
      default: return {};
    }
  }

  std::optional<uint64_t> address(const FormValue& v, const UnitHeader& u, size_t index) const {
    switch (v.form) {
      case DW_FORM_addr: return v.value;
      case DW_FORM_addrx: case DW_FORM_addrx1: case DW_FORM_addrx2: case DW_FORM_addrx3: case DW_FORM_addrx4:
      case DW_FORM_GNU_addr_index: {
        Cursor c(addr, bases_of(u, index).addr + v.value * u.address_size);
        uint64_t a = c.uint(u.address_size);
        return c.ok() ? std::optional(a) : std::nullopt;
      }
      default: return std::nullopt;
    }
  }

  void apply(uint16_t name, const FormValue& v, const UnitHeader& u, size_t index, DieFacts& f) const {
    bool expression = v.form == DW_FORM_exprloc || v.form == DW_FORM_block || v.form == DW_FORM_block1 ||
                      v.form == DW_FORM_block2 || v.form == DW_FORM_block4;
    switch (name) {
      case DW_AT_name: f.name = string(v, u, index); break;
      case DW_AT_type: f.type = reference(v, u); break;
      case DW_AT_specification: case DW_AT_abstract_origin: f.specification = reference(v, u); break;
      case DW_AT_byte_size: f.byte_size = constant(v); break;
      case DW_AT_bit_size: f.bit_size = constant(v); break;
      case DW_AT_data_bit_offset: f.data_bit_offset = constant(v); break;
      case DW_AT_bit_offset: f.bit_offset = constant(v); break;
      case DW_AT_data_member_location: f.member_location = expression ? plus_uconst(v.block) : constant(v); break;
      case DW_AT_const_value:
        f.const_value = constant(v);
        f.const_value_signed = is_signed(v.form);
        break;
      case DW_AT_location:
        if (expression) {
          f.static_address = single_address(v.block);
          if (!f.static_address) f.frame_offset = frame_slot(v.block);
        }
        break;
      case DW_AT_frame_base:
        if (expression) f.frame_base = frame_base(v.block);
        break;
      case DW_AT_low_pc: f.static_address = address(v, u, index); break;  // a function's entry
      case DW_AT_upper_bound: f.upper_bound = constant(v); break;
      case DW_AT_count: f.count = constant(v); break;
      case DW_AT_lower_bound: f.lower_bound = constant(v).value_or(0); break;
      case DW_AT_encoding: f.encoding = constant(v).value_or(0); break;
      case DW_AT_declaration: f.declaration = v.value != 0; break;
      case DW_AT_prototyped: f.prototyped = v.value != 0; break;
      case DW_AT_stmt_list: f.stmt_list = v.value; break;
      case DW_AT_comp_dir: f.comp_dir = string(v, u, index); break;
      default: break;
    }
  }

  // Decodes the DIE at the cursor (its code already read into `a`): its facts when `f` is given,
  // and its DW_AT_sibling.
  Status decode(Cursor& c, const UnitHeader& u, size_t index, const dwarf::Abbrev& a, DieFacts* f, uint64_t& sibling) const {
    sibling = 0;
    for (const auto& spec : a.attrs) {
      FormValue v;
      if (!dwarf::read_form(c, u, spec.form, spec.implicit_const, v)) {
        return error(c.offset(), "attribute of unknown form " + hex(spec.form));
      }
      if (spec.name == DW_AT_sibling) sibling = reference(v, u).value_or(0);
      if (f) apply(spec.name, v, u, index, *f);
    }
    if (!c.ok()) return error(u.offset, "a DIE runs past the end of its unit");
    return ok_status();
  }

  // The DIE at the cursor: its abbreviation, or null at the end of a list of siblings.
  Result<const dwarf::Abbrev*> next(Cursor& c, const AbbrevTable& table) const {
    uint64_t at = c.offset();
    uint64_t code = c.uleb();
    if (!c.ok()) return error(at, "a DIE runs past the end of its unit");
    if (code == 0) return static_cast<const dwarf::Abbrev*>(nullptr);
    const dwarf::Abbrev* a = table.find(code);
    if (!a) return error(at, "abbreviation code " + std::to_string(code) + " is not in its table");
    return a;
  }

  // Past the children of the DIE just decoded: by its DW_AT_sibling when it has a sane one.
  Status skip_children(Cursor& c, const UnitHeader& u, size_t index, const AbbrevTable& table, uint64_t die,
                       uint64_t sibling) const {
    if (sibling > die && sibling <= u.end) {
      c.seek(sibling);
      return ok_status();
    }
    for (int depth = 1; depth > 0;) {
      auto a = next(c, table);
      if (!a) return a.error();
      if (!*a) {
        --depth;
        continue;
      }
      uint64_t inner = 0;
      auto st = decode(c, u, index, **a, nullptr, inner);
      if (!st) return st;
      if ((*a)->has_children) ++depth;
    }
    return ok_status();
  }

  struct Located {
    const UnitHeader* unit;
    size_t index;
    const AbbrevTable* table;
  };
  Result<Located> locate(uint64_t offset) const {
    size_t index = 0;
    const UnitHeader* u = unit_of(offset, &index);
    if (!u) return error(offset, "no DIE here: no unit holds this offset");
    const AbbrevTable* table = abbrev_table(*u);
    if (!table) return error(offset, "the unit's abbreviation table at .debug_abbrev+" + hex(u->abbrev_offset) + " is malformed");
    return Located{u, index, table};
  }

  // The code the unit DIE at `u.first_die` says its unit covers: DW_AT_low_pc with DW_AT_high_pc
  // (an address, or a length from DWARF 4 on), or DW_AT_ranges (a .debug_ranges offset before
  // DWARF 5; a .debug_rnglists offset or, with DW_FORM_rnglistx, an index from DW_AT_rnglists_base).
  std::vector<dwarf::PcRange> unit_ranges(const UnitHeader& u, size_t index) const {
    const AbbrevTable* table = abbrev_table(u);
    Cursor c(info, u.first_die);
    c.limit(u.end);
    const dwarf::Abbrev* a = table ? table->find(c.uleb()) : nullptr;
    std::optional<uint64_t> low, high, ranges_at;
    bool high_is_length = false, ranges_indexed = false;
    std::optional<uint64_t> rnglists_base;
    for (size_t i = 0; a && i < a->attrs.size(); ++i) {
      FormValue v;
      if (!dwarf::read_form(c, u, a->attrs[i].form, a->attrs[i].implicit_const, v)) return {};
      switch (a->attrs[i].name) {
        case DW_AT_low_pc: low = address(v, u, index); break;
        case DW_AT_high_pc:
          high_is_length = v.form != DW_FORM_addr && !(v.form >= DW_FORM_addrx1 && v.form <= DW_FORM_addrx4) &&
                           v.form != DW_FORM_addrx && v.form != DW_FORM_GNU_addr_index;
          high = high_is_length ? constant(v) : address(v, u, index);
          break;
        case DW_AT_ranges:
          ranges_at = v.value;
          ranges_indexed = v.form == DW_FORM_rnglistx;
          break;
        case DW_AT_rnglists_base: rnglists_base = v.value; break;
        default: break;
      }
    }
    if (!a || !c.ok()) return {};
    uint64_t base = low.value_or(0);
    if (ranges_at && u.version >= 5) {
      std::optional<uint64_t> at = ranges_at;
      // Without DW_AT_rnglists_base, the offsets follow the section's first header (as the string
      // and address tables' bases default above).
      uint64_t first_table = u.offset_size == 8 ? 20 : 12;
      if (ranges_indexed) at = dwarf::rnglist_offset(rnglists, rnglists_base.value_or(first_table), *ranges_at, u.offset_size);
      if (!at || !owns_list(*at | (uint64_t{1} << 63), u)) return {};
      auto addrx = [&](uint64_t i) {
        FormValue v;
        v.value = i;
        v.form = DW_FORM_addrx;
        return address(v, u, index);
      };
      return dwarf::read_rnglist(rnglists, *at, u.address_size, base, addrx);
    }
    if (ranges_at) {
      if (!owns_list(*ranges_at & ~(uint64_t{1} << 63), u)) return {};
      return dwarf::read_range_list(ranges, *ranges_at, u.address_size, base);
    }
    if (low && high) {
      uint64_t end = high_is_length ? *low + *high : *high;
      if (end > *low) return {{*low, end}};
    }
    return {};
  }
};

DieReader::DieReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DieReader::~DieReader() = default;

Result<std::unique_ptr<DieReader>> DieReader::open(const DwarfSections& sections, std::vector<UnitHeader> units) {
  auto impl = std::make_unique<Impl>();
  impl->path = sections.path();
  impl->info = sections.get(".debug_info");
  impl->abbrev = sections.get(".debug_abbrev");
  impl->str = sections.get(".debug_str");
  impl->line_str = sections.get(".debug_line_str");
  impl->str_offsets = sections.get(".debug_str_offsets");
  impl->addr = sections.get(".debug_addr");
  impl->ranges = sections.get(".debug_ranges");
  impl->rnglists = sections.get(".debug_rnglists");
  impl->units = std::move(units);
  return std::unique_ptr<DieReader>(new DieReader(std::move(impl)));
}

Result<DieFacts> DieReader::read(uint64_t offset) const {
  auto at = impl_->locate(offset);
  if (!at) return at.error();
  Cursor c(impl_->info, offset);
  c.limit(at->unit->end);
  auto a = impl_->next(c, *at->table);
  if (!a) return a.error();
  if (!*a) return impl_->error(offset, "no DIE here: a null entry");
  DieFacts f;
  f.offset = offset;
  f.tag = (*a)->tag;
  f.has_children = (*a)->has_children;
  uint64_t sibling = 0;
  auto st = impl_->decode(c, *at->unit, at->index, **a, &f, sibling);
  if (!st) return st.error();
  return f;
}

Result<DieFacts> DieReader::read_unit(uint64_t unit_offset) const {
  const auto& units = impl_->units;
  auto it = std::lower_bound(units.begin(), units.end(), unit_offset,
                             [](const UnitHeader& u, uint64_t o) { return u.offset < o; });
  if (it == units.end() || it->offset != unit_offset) return impl_->error(unit_offset, "no unit starts here");
  return read(it->first_die);
}

const std::vector<dwarf::UnitHeader>& DieReader::units() const { return impl_->units; }

std::vector<dwarf::PcRange> DieReader::unit_ranges(uint64_t unit_offset) const {
  const auto& units = impl_->units;
  auto it = std::lower_bound(units.begin(), units.end(), unit_offset,
                             [](const UnitHeader& u, uint64_t o) { return u.offset < o; });
  if (it == units.end() || it->offset != unit_offset) return {};
  return impl_->unit_ranges(*it, static_cast<size_t>(it - units.begin()));
}

Result<std::vector<DieFacts>> DieReader::children(uint64_t offset) const {
  auto at = impl_->locate(offset);
  if (!at) return at.error();
  const UnitHeader& u = *at->unit;
  Cursor c(impl_->info, offset);
  c.limit(u.end);
  auto parent = impl_->next(c, *at->table);
  if (!parent) return parent.error();
  if (!*parent) return impl_->error(offset, "no DIE here: a null entry");
  uint64_t sibling = 0;
  auto st = impl_->decode(c, u, at->index, **parent, nullptr, sibling);
  if (!st) return st.error();
  std::vector<DieFacts> out;
  if (!(*parent)->has_children) return out;
  for (;;) {
    uint64_t die = c.offset();
    auto a = impl_->next(c, *at->table);
    if (!a) return a.error();
    if (!*a) break;
    DieFacts& f = out.emplace_back();
    f.offset = die;
    f.tag = (*a)->tag;
    f.has_children = (*a)->has_children;
    st = impl_->decode(c, u, at->index, **a, &f, sibling);
    if (!st) return st.error();
    if (f.has_children) {
      st = impl_->skip_children(c, u, at->index, *at->table, die, sibling);
      if (!st) return st.error();
    }
    if (out.size() > 1'000'000) return impl_->error(offset, "too many children");
  }
  return out;
}

}  // namespace coroner
