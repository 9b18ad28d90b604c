#include "coroner/debuginfo/dwarf_index.hpp"

#include <libdwarf/dwarf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstring>
#include <thread>

#include "coroner/debuginfo/dwarf_units.hpp"
#include "dwarf_index_payload.hpp"
#include "coroner/format.hpp"

namespace coroner {

namespace {

using dwarf::AbbrevTable;
using dwarf::Cursor;
using dwarf::FormValue;
using dwarf::UnitHeader;
using dwarf::string_at;
using PackedSlot = DwarfIndex::PackedSlot;

// A slot of a table being built: its name points into the sections.
struct Slot {
  uint64_t hash = 0;  // 0: empty
  const char* name = nullptr;
  uint32_t length = 0;
  NameKind kind{};
  bool declaration = false;
  uint64_t die = 0;
};

constexpr uint32_t kMaxNameLength = (1u << 24) - 1;  // what a packed slot's length holds
constexpr uint32_t kKindShift = 24, kDeclarationBit = 1u << 28;

uint32_t pack_meta(uint32_t length, NameKind kind, bool declaration) {
  return length | static_cast<uint32_t>(kind) << kKindShift | (declaration ? kDeclarationBit : 0);
}
uint32_t meta_length(uint32_t meta) { return meta & kMaxNameLength; }
NameKind meta_kind(uint32_t meta) { return static_cast<NameKind>(meta >> kKindShift & 0xf); }
bool meta_declaration(uint32_t meta) { return meta & kDeclarationBit; }

std::optional<NameKind> kind_of_tag(uint16_t tag) {
  switch (tag) {
    case DW_TAG_structure_type: return NameKind::structure;
    case DW_TAG_union_type: return NameKind::union_type;
    case DW_TAG_enumeration_type: return NameKind::enumeration;
    case DW_TAG_typedef: return NameKind::typedef_name;
    case DW_TAG_base_type: return NameKind::base;
    case DW_TAG_variable: return NameKind::variable;
    case DW_TAG_subprogram: return NameKind::function;
    default: return std::nullopt;
  }
}

uint64_t hash_name(std::string_view s, NameKind kind) {
  // FNV-1a over 8-byte words; names are short and this runs for every named top-level DIE.
  uint64_t h = 0xcbf29ce484222325ull ^ (static_cast<uint64_t>(kind) + 1) * 0x9e3779b97f4a7c15ull;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail ^ s.size()) * 0x100000001b3ull;
  h ^= h >> 32;
  return h ? h : 1;
}

// Where (kind, name) is in a power-of-two open-addressing table, or the empty slot that ends its probe.
size_t slot_index(const std::vector<Slot>& slots, uint64_t hash, std::string_view name, NameKind kind) {
  size_t mask = slots.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots[i];
    if (s.hash == 0) return i;
    if (s.hash == hash && s.kind == kind && s.length == name.size() && std::memcmp(s.name, name.data(), name.size()) == 0) {
      return i;
    }
  }
}

// Open addressing, linear probing, load <= 1/2: the hot loop of indexing is one insert per name.
class NameTable {
 public:
  explicit NameTable(size_t capacity) : slots_(std::bit_ceil(std::max<size_t>(capacity, 64))) {}

  void insert(const Slot& s) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    Slot* at = probe(s.hash, s.name, s.length, s.kind);
    if (at->hash == 0) {
      *at = s;
      ++used_;
    } else if (std::pair(s.declaration, s.die) < std::pair(at->declaration, at->die)) {
      // A definition beats a declaration, then the lower offset wins: the same answer whatever
      // order the threads met the units in.
      at->die = s.die;
      at->declaration = s.declaration;
    }
  }
  std::vector<Slot>& slots() { return slots_; }
  size_t used() const { return used_; }

 private:
  Slot* probe(uint64_t hash, const char* name, uint32_t length, NameKind kind) {
    return &slots_[slot_index(slots_, hash, {name, length}, kind)];
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    used_ = 0;
    for (const Slot& s : old) {
      if (s.hash) {
        *probe(s.hash, s.name, s.length, s.kind) = s;
        ++used_;
      }
    }
  }
  std::vector<Slot> slots_;
  size_t used_ = 0;
};

struct Sections {
  std::span<const uint8_t> info, abbrev, str, line_str, str_offsets;
};

// One madvise maps a batch's pages instead of a page fault per 64 KiB; a hint, so failures are ignored.
void prefault(std::span<const uint8_t> section, uint64_t begin, uint64_t end) {
  auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  auto from = reinterpret_cast<uintptr_t>(section.data() + begin) & ~(page - 1);
  auto to = reinterpret_cast<uintptr_t>(section.data() + std::min<uint64_t>(end, section.size()));
#ifdef MADV_POPULATE_READ
  madvise(reinterpret_cast<void*>(from), to - from, MADV_POPULATE_READ);
#endif
}

class UnitIndexer {
 public:
  UnitIndexer(const Sections& s, NameTable& table) : s_(s), table_(table) {}

  void index(const UnitHeader& u) {
    unit_ = &u;
    str_offsets_base_ = u.version >= 5 ? 8 : 0;  // DWARF 5 header of .debug_str_offsets, 32-bit
    const AbbrevTable* abbrevs = abbrev_table(u);
    if (!abbrevs) return fail(u.offset, "abbreviation table at .debug_abbrev+" + hex(u.abbrev_offset) + " is malformed");
    Cursor c(s_.info, u.first_die);
    c.limit(u.end);
    int depth = 0;
    uint64_t enum_die = 0;
    while (c.ok() && !c.at_end()) {
      uint64_t die = c.offset();
      uint64_t code = c.uleb();
      if (code == 0) {
        if (--depth <= 0) break;
        if (depth == 1) enum_die = 0;
        continue;
      }
      const auto* a = abbrevs->find(code);
      if (!a) return fail(die, "abbreviation code " + std::to_string(code) + " is not in its table");
      ++dies_;
      DieFacts f;
      if (!(a->fixed_size >= 0 && depth > 0 ? read_fixed(c, *a, f) : read_any(c, *a, depth, f))) {
        return fail(die, "attribute of unknown form");
      }
      uint16_t name_form = f.name_form;
      const FormValue& name_value = f.name;
      bool declaration = f.declaration;
      uint64_t sibling = f.sibling;
      if (name_form) {
        if (depth == 1) {
          if (auto kind = kind_of_tag(a->tag)) add(name_form, name_value, *kind, die, declaration);
        } else if (depth == 2 && enum_die && a->tag == DW_TAG_enumerator) {
          add(name_form, name_value, NameKind::enumerator, enum_die, false);
        }
      }
      if (!a->has_children) continue;
      if (depth == 1 && a->tag == DW_TAG_enumeration_type) {
        enum_die = die;
        ++depth;
      } else if (depth >= 1 && sibling > die && sibling < u.end) {
        c.seek(sibling);
      } else {
        ++depth;
      }
    }
    if (!c.ok()) fail(u.offset, "unit runs past its end");
  }

  size_t dies() const { return dies_; }

 private:
  struct DieFacts {
    uint16_t name_form = 0;
    FormValue name;
    bool declaration = false;
    uint64_t sibling = 0;  // .debug_info offset
  };

  // Fast path: every attribute has a fixed size, so read the three we need where they sit.
  bool read_fixed(Cursor& c, const dwarf::Abbrev& a, DieFacts& f) {
    uint64_t base = c.offset();
    c.skip(static_cast<uint64_t>(a.fixed_size));
    if (!c.ok()) return false;
    auto at = [&](int32_t offset, uint16_t form) {
      Cursor field(s_.info, base + static_cast<uint64_t>(offset));
      FormValue v;
      dwarf::read_form(field, *unit_, form, 0, v);
      return v;
    };
    if (a.name_at >= 0) f.name_form = a.name_form, f.name = at(a.name_at, a.name_form);
    if (a.declaration_at >= 0) f.declaration = a.declaration_form == DW_FORM_flag_present || at(a.declaration_at, a.declaration_form).value;
    if (a.sibling_at >= 0) f.sibling = sibling_offset(a.sibling_form, at(a.sibling_at, a.sibling_form).value);
    return true;
  }

  bool read_any(Cursor& c, const dwarf::Abbrev& a, int depth, DieFacts& f) {
    for (const auto& spec : a.attrs) {
      FormValue v;
      if (!dwarf::read_form(c, *unit_, spec.form, spec.implicit_const, v)) return false;
      switch (spec.name) {
        case DW_AT_name: f.name_form = spec.form, f.name = v; break;
        case DW_AT_declaration: f.declaration = v.value != 0; break;
        case DW_AT_sibling: f.sibling = sibling_offset(spec.form, v.value); break;
        case DW_AT_str_offsets_base:
          if (depth == 0) str_offsets_base_ = v.value;
          break;
        default: break;
      }
    }
    return true;
  }

  uint64_t sibling_offset(uint16_t form, uint64_t value) const {
    return form == DW_FORM_ref_addr ? value : unit_->offset + value;
  }

 public:
  std::vector<std::string>& problems() { return problems_; }

 private:
  // The unit's abbreviations. Units that share a table (rare in a kernel, where each has its own)
  // are next to each other: one table is kept, and its storage reused for the next.
  const AbbrevTable* abbrev_table(const UnitHeader& u) {
    uint64_t key = dwarf::abbrev_key(u);
    if (!abbrevs_ok_ || key != abbrevs_key_) {
      abbrevs_key_ = key;
      abbrevs_ok_ = abbrevs_.parse_into(s_.abbrev, u.abbrev_offset, u.address_size, u.offset_size, u.version);
      if (!abbrevs_ok_) return nullptr;
    }
    return &abbrevs_;
  }

  std::string_view resolve_name(uint16_t form, const FormValue& v) {
    if (v.is_text) return v.text;
    switch (form) {
      case DW_FORM_strp: return string_at(s_.str, v.value);
      case DW_FORM_line_strp: return string_at(s_.line_str, v.value);
      case DW_FORM_strx: case DW_FORM_strx1: case DW_FORM_strx2: case DW_FORM_strx3: case DW_FORM_strx4:
      case DW_FORM_GNU_str_index: {
        Cursor c(s_.str_offsets, str_offsets_base_ + v.value * unit_->offset_size);
        uint64_t off = c.uint(unit_->offset_size);
        return c.ok() ? string_at(s_.str, off) : std::string_view{};
      }
      default: return {};
    }
  }

  void add(uint16_t form, const FormValue& v, NameKind kind, uint64_t die, bool declaration) {
    // Most names are .debug_str offsets, shared by every unit that repeats a type: a bit per
    // (kind, offset) skips the hashing once a definition of that name is in the table.
    std::vector<uint64_t>* seen = nullptr;
    if (form == DW_FORM_strp && v.value < s_.str.size()) {
      seen = &defined_[static_cast<size_t>(kind)];
      if (seen->empty()) seen->resize(s_.str.size() / 64 + 1);
      if ((*seen)[v.value / 64] >> (v.value % 64) & 1) return;
    }
    std::string_view name = resolve_name(form, v);
    if (name.empty() || name.size() > kMaxNameLength) return;
    table_.insert({hash_name(name, kind), name.data(), static_cast<uint32_t>(name.size()), kind, declaration, die});
    if (seen && !declaration) (*seen)[v.value / 64] |= uint64_t{1} << (v.value % 64);
  }

  void fail(uint64_t offset, const std::string& what) {
    problems_.push_back(".debug_info+" + hex(offset) + ": " + what + "; the unit at " + hex(unit_->offset) +
                        " is only partly indexed");
  }

  const Sections& s_;
  NameTable& table_;
  const UnitHeader* unit_ = nullptr;
  uint64_t str_offsets_base_ = 0;
  AbbrevTable abbrevs_;
  uint64_t abbrevs_key_ = 0;
  bool abbrevs_ok_ = false;
  std::array<std::vector<uint64_t>, 8> defined_;
  size_t dies_ = 0;
  std::vector<std::string> problems_;
};

// What one indexing thread found.
struct IndexPart {
  // Sized for the share of .debug_info a thread indexes, at two slots per expected name: Debian's
  // 6.1 vmlinux has a name per ~1 KB of it (168k in 174 MB), so its tables do not grow while a
  // module's (or a fuzzer's input's) stay small.
  explicit IndexPart(size_t info_bytes) : table(info_bytes / 512) {}
  NameTable table;
  size_t dies = 0;
  std::vector<std::string> problems;
};

// The threads' tables as one table at load <= 1/2, its names copied out of the sections (so that
// the table can be stored and mapped back without them). The same (kind, name) met by several
// threads keeps the entry the tables' own rule keeps.
// Returns the names' size.
uint64_t flatten(std::vector<IndexPart>& parts, std::span<PackedSlot> slots, char* names) {
  uint64_t names_size = 0;
  size_t mask = slots.size() - 1;
  for (auto& part : parts) {
    for (const Slot& s : part.table.slots()) {
      if (!s.hash) continue;
      for (size_t i = s.hash & mask;; i = (i + 1) & mask) {
        PackedSlot& at = slots[i];
        if (at.hash == 0) {
          at = {s.hash, s.die, static_cast<uint32_t>(names_size), pack_meta(s.length, s.kind, s.declaration)};
          std::memcpy(names + names_size, s.name, s.length);
          names_size += s.length;
          break;
        }
        if (at.hash != s.hash || meta_kind(at.meta) != s.kind || meta_length(at.meta) != s.length ||
            std::memcmp(names + at.name, s.name, s.length) != 0) {
          continue;
        }
        if (std::pair(s.declaration, s.die) < std::pair(meta_declaration(at.meta), at.die)) {
          at.die = s.die;
          at.meta = pack_meta(s.length, s.kind, s.declaration);
        }
        break;
      }
    }
    part.table.slots() = {};  // frees each thread's table as soon as it is merged
  }
  return names_size;
}

}  // namespace

DwarfIndex DwarfIndex::build(const DwarfSections& sections, unsigned threads) {
  Sections s{sections.get(".debug_info"), sections.get(".debug_abbrev"), sections.get(".debug_str"),
             sections.get(".debug_line_str"), sections.get(".debug_str_offsets")};
  DwarfIndex index;
  auto units = dwarf::read_unit_headers(s.info);
  if (!units.complete) {
    index.problems_.push_back(sections.path() + ": .debug_info+" + hex(units.bad_offset) +
                              ": malformed unit header; units after it are not indexed");
  }
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, std::max<size_t>(1, units.units.size())));

  std::vector<IndexPart> parts;
  parts.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) parts.emplace_back(s.info.size() / threads);
  std::atomic<size_t> next{0};
  constexpr size_t kBatch = 16;  // units per grab: about 1 MB of .debug_info
  auto work = [&](unsigned t) {

    UnitIndexer indexer(s, parts[t].table);
    for (;;) {
      size_t first = next.fetch_add(kBatch);
      if (first >= units.units.size()) break;
      size_t last = std::min(first + kBatch, units.units.size());
      prefault(s.info, units.units[first].offset, units.units[last - 1].end);
      for (size_t i = first; i < last; ++i) indexer.index(units.units[i]);
    }
    parts[t].dies = indexer.dies();

    parts[t].problems = std::move(indexer.problems());
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();

  size_t used = 0, name_bytes = 0;
  for (auto& part : parts) {
    index.stats_.dies_seen += part.dies;
    used += part.table.used();
    for (const Slot& slot : part.table.slots()) name_bytes += slot.hash ? slot.length : 0;
    for (auto& p : part.problems) index.problems_.push_back(std::move(p));
  }
  std::sort(index.problems_.begin(), index.problems_.end());
  // Names are at most 2^32 bytes in all: a packed slot holds a 32-bit offset.
  if (name_bytes > UINT32_MAX) {
    index.problems_.push_back(sections.path() + ": more than 4 GiB of names; none are indexed");
    used = name_bytes = 0;
  }
  uint64_t dies_seen = index.stats_.dies_seen;
  index_payload::Builder payload(units.units, std::bit_ceil(std::max<size_t>(used * 2, 16)), name_bytes, dies_seen, used);
  uint64_t names_size = name_bytes ? flatten(parts, payload.slots(), payload.names()) : 0;
  index.own_payload_ = payload.finish(names_size, index.problems_);
  // The layout just written adds up; view() only fails on bytes from elsewhere.
  if (auto st = index.view(index.own_payload_); !st) index.problems_.push_back(st.error().message);
  index.stats_.threads = threads;
  return index;
}

Status DwarfIndex::view(std::span<const uint8_t> payload) {
  auto v = index_payload::read(payload);
  if (!v) return v.error();
  units_ = std::move(v->units);
  slots_ = v->slots;
  names_ = v->names;
  problems_ = std::move(v->problems);
  stats_ = {units_.size(), v->dies_seen, v->name_count, slots_.size_bytes() + names_.size(), 0};
  return ok_status();
}

std::optional<DwarfIndex::Entry> DwarfIndex::find(NameKind kind, std::string_view name) const {
  if (slots_.empty() || name.size() > kMaxNameLength) return std::nullopt;
  uint64_t h = hash_name(name, kind);
  size_t mask = slots_.size() - 1;
  // Bounded by the table's size: a table read from a file need not have an empty slot.
  for (size_t n = 0, i = h & mask; n < slots_.size(); ++n, i = (i + 1) & mask) {
    const PackedSlot& s = slots_[i];
    if (s.hash == 0) return std::nullopt;
    if (s.hash != h || meta_kind(s.meta) != kind || meta_length(s.meta) != name.size()) continue;
    if (s.name > names_.size() || names_.size() - s.name < name.size()) continue;
    if (names_.substr(s.name, name.size()) == name) return Entry{s.die, meta_declaration(s.meta)};
  }
  return std::nullopt;
}

}  // namespace coroner
