// The DWARF name index as an index cache entry: its layout, the key it is stored under, and the
// choice between mapping a stored one and building it.
#include <algorithm>
#include <cstring>

#include "coroner/debuginfo/dwarf_index.hpp"

namespace coroner {

namespace {

constexpr const char* kCacheKind = "dwarf-index-1";  // bump when the payload's layout changes

// The payload: this header, the units, the slots, the names, then the problems one per line.
struct PayloadHeader {
  uint64_t unit_count, slot_count, names_size, problems_size, dies_seen, names;
};

// A unit header as stored: no padding, so every byte written is defined.
struct PackedUnit {
  uint64_t offset, end, first_die, abbrev_offset;
  uint64_t shape;  // version (16 bits), unit type, address size, offset size (8 each)
};

PackedUnit pack(const dwarf::UnitHeader& u) {
  return {u.offset, u.end, u.first_die, u.abbrev_offset,
          uint64_t{u.version} | uint64_t{u.unit_type} << 16 | uint64_t{u.address_size} << 24 | uint64_t{u.offset_size} << 32};
}

dwarf::UnitHeader unpack(const PackedUnit& p) {
  dwarf::UnitHeader u;
  u.offset = p.offset, u.end = p.end, u.first_die = p.first_die, u.abbrev_offset = p.abbrev_offset;
  u.version = static_cast<uint16_t>(p.shape);
  u.unit_type = static_cast<uint8_t>(p.shape >> 16);
  u.address_size = static_cast<uint8_t>(p.shape >> 24);
  u.offset_size = static_cast<uint8_t>(p.shape >> 32);
  return u;
}

// Copies `size` bytes to `out` at `at`, returning the offset after them.
size_t put(std::vector<uint8_t>& out, size_t at, const void* data, size_t size) {
  if (size) std::memcpy(out.data() + at, data, size);
  return at + size;
}

// Sizes and a sample of each section the index is read from: a file with the same build-id whose
// debug info differs (stripped, recompressed, rewritten by dwz) gets its own index.
std::array<uint64_t, 8> fingerprint(const DwarfSections& sections) {
  std::array<uint64_t, 8> f{};
  const char* names[] = {".debug_info", ".debug_abbrev", ".debug_str", ".debug_line_str", ".debug_str_offsets"};
  size_t i = 0;
  for (const char* name : names) f[i++] = sections.get(name).size();
  auto info = sections.get(".debug_info");
  constexpr size_t kSample = 4096;
  f[i++] = cache_checksum(info.first(std::min(info.size(), kSample)));
  f[i++] = cache_checksum(info.last(std::min(info.size(), kSample)));
  f[i++] = cache_checksum(sections.get(".debug_abbrev").first(std::min(sections.get(".debug_abbrev").size(), kSample)));
  return f;
}

bool is_hex(const std::string& s) {
  return !s.empty() && s.size() < 128 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::optional<IndexCacheKey> DwarfIndex::cache_key(const DwarfSections& sections) {
  std::string id = sections.build_id();
  if (!is_hex(id)) return std::nullopt;
  return IndexCacheKey{id, kCacheKind, fingerprint(sections)};
}

std::vector<uint8_t> DwarfIndex::to_bytes() const {
  std::string problems;
  for (const auto& p : problems_) problems += p + "\n";
  PayloadHeader h{units_.size(), slots_.size(), names_.size(), problems.size(), stats_.dies_seen, stats_.names};
  std::vector<PackedUnit> units;
  for (const auto& u : units_) units.push_back(pack(u));
  std::vector<uint8_t> out(sizeof h + units.size() * sizeof(PackedUnit) + slots_.size_bytes() + names_.size() +
                           problems.size());
  size_t at = put(out, 0, &h, sizeof h);
  at = put(out, at, units.data(), units.size() * sizeof(PackedUnit));
  at = put(out, at, slots_.data(), slots_.size_bytes());
  at = put(out, at, names_.data(), names_.size());
  put(out, at, problems.data(), problems.size());
  return out;
}

Result<DwarfIndex> DwarfIndex::from_bytes(std::shared_ptr<const CachedBytes> bytes) {
  std::span<const uint8_t> p = bytes->payload();
  PayloadHeader h;
  if (p.size() < sizeof h) return make_error("shorter than its header");
  std::memcpy(&h, p.data(), sizeof h);
  uint64_t room = p.size() - sizeof h;
  if (h.unit_count > room / sizeof(PackedUnit)) return make_error("its unit count " + std::to_string(h.unit_count) + " does not fit");
  room -= h.unit_count * sizeof(PackedUnit);
  if (h.slot_count > room / sizeof(PackedSlot) || (h.slot_count & (h.slot_count - 1)) != 0) {
    return make_error("its table size " + std::to_string(h.slot_count) + " does not fit or is not a power of two");
  }
  room -= h.slot_count * sizeof(PackedSlot);
  if (h.names_size > room || h.problems_size != room - h.names_size) return make_error("its sections do not add up");
  DwarfIndex index;
  const uint8_t* at = p.data() + sizeof h;
  for (uint64_t i = 0; i < h.unit_count; ++i, at += sizeof(PackedUnit)) {
    PackedUnit u;
    std::memcpy(&u, at, sizeof u);
    index.units_.push_back(unpack(u));
  }
  // The payload is 64-byte aligned in a page-aligned map, and the header a multiple of 8 bytes.
  index.slots_ = {reinterpret_cast<const PackedSlot*>(at), h.slot_count};
  at += h.slot_count * sizeof(PackedSlot);
  index.names_ = {reinterpret_cast<const char*>(at), h.names_size};
  std::string_view problems(reinterpret_cast<const char*>(at + h.names_size), h.problems_size);
  for (size_t from = 0; from < problems.size();) {
    size_t nl = problems.find('\n', from);
    if (nl == std::string_view::npos) nl = problems.size();
    index.problems_.emplace_back(problems.substr(from, nl - from));
    from = nl + 1;
  }
  index.stats_ = {h.unit_count, h.dies_seen, h.names, index.slots_.size_bytes() + index.names_.size(), 0};
  index.mapped_ = std::move(bytes);
  return index;
}

DwarfIndex DwarfIndex::open(const DwarfSections& sections, unsigned threads, const IndexCache& cache) {
  auto key = cache.enabled() ? cache_key(sections) : std::nullopt;
  if (!key) return build(sections, threads);
  std::string why;
  if (auto stored = cache.load(*key, &why)) {
    auto index = from_bytes(std::move(stored));
    if (index) return std::move(*index);
    why = "the index cache entry " + cache.path(*key) + " is unusable (" + index.error().message + "); it is rebuilt";
  }
  DwarfIndex index = build(sections, threads);
  if (auto st = cache.store(*key, index.to_bytes()); !st) index.problems_.push_back(st.error().message);
  if (!why.empty()) index.problems_.push_back(why);  // this run's, not the entry's
  return index;
}

}  // namespace coroner
