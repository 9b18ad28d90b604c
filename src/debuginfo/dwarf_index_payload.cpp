#include "dwarf_index_payload.hpp"

#include <cstring>

namespace coroner::index_payload {

namespace {

struct Header {
  uint64_t unit_count, slot_count, names_size, problems_size, dies_seen, name_count;
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

}  // namespace

Builder::Builder(const std::vector<dwarf::UnitHeader>& units, uint64_t slot_count, uint64_t max_names,
                 uint64_t dies_seen, uint64_t names)
    : slot_count_(slot_count) {
  slots_at_ = sizeof(Header) + units.size() * sizeof(PackedUnit);  // a multiple of 8: slots are aligned
  names_at_ = slots_at_ + slot_count * sizeof(PackedSlot);
  bytes_.resize(names_at_ + max_names);  // zero: every slot empty
  Header h{units.size(), slot_count, 0, 0, dies_seen, names};
  std::memcpy(bytes_.data(), &h, sizeof h);
  for (size_t i = 0; i < units.size(); ++i) {
    PackedUnit u = pack(units[i]);
    std::memcpy(bytes_.data() + sizeof(Header) + i * sizeof(PackedUnit), &u, sizeof u);
  }
}

std::span<PackedSlot> Builder::slots() {
  return {reinterpret_cast<PackedSlot*>(bytes_.data() + slots_at_), static_cast<size_t>(slot_count_)};
}

char* Builder::names() { return reinterpret_cast<char*>(bytes_.data() + names_at_); }

std::vector<uint8_t> Builder::finish(uint64_t names_size, const std::vector<std::string>& problems) {
  std::string text;
  for (const auto& p : problems) text += p + "\n";
  bytes_.resize(names_at_ + names_size + text.size());
  if (!text.empty()) std::memcpy(bytes_.data() + names_at_ + names_size, text.data(), text.size());
  Header h;
  std::memcpy(&h, bytes_.data(), sizeof h);
  h.names_size = names_size;
  h.problems_size = text.size();
  std::memcpy(bytes_.data(), &h, sizeof h);
  return std::move(bytes_);
}

Result<View> read(std::span<const uint8_t> p) {
  Header h;
  if (p.size() < sizeof h) return make_error("shorter than its header");
  std::memcpy(&h, p.data(), sizeof h);
  uint64_t room = p.size() - sizeof h;
  if (h.unit_count > room / sizeof(PackedUnit)) return make_error("its unit count " + std::to_string(h.unit_count) + " does not fit");
  room -= h.unit_count * sizeof(PackedUnit);
  if (h.slot_count > room / sizeof(PackedSlot) || (h.slot_count & (h.slot_count - 1)) != 0) {
    return make_error("its table size " + std::to_string(h.slot_count) + " does not fit or is not a power of two");
  }
  room -= h.slot_count * sizeof(PackedSlot);
  if (h.names_size > room || h.problems_size != room - h.names_size) return make_error("its parts do not add up");
  View v;
  const uint8_t* at = p.data() + sizeof h;
  v.units.resize(h.unit_count);
  for (auto& u : v.units) {
    PackedUnit packed;
    std::memcpy(&packed, at, sizeof packed);
    u = unpack(packed);
    at += sizeof packed;
  }
  // Aligned: a cache entry's payload is 64-byte aligned in a page-aligned map, a built one is
  // from operator new, and the parts before the slots are multiples of 8 bytes.
  v.slots = {reinterpret_cast<const PackedSlot*>(at), static_cast<size_t>(h.slot_count)};
  at += h.slot_count * sizeof(PackedSlot);
  v.names = {reinterpret_cast<const char*>(at), static_cast<size_t>(h.names_size)};
  std::string_view problems(reinterpret_cast<const char*>(at + h.names_size), static_cast<size_t>(h.problems_size));
  for (size_t from = 0; from < problems.size();) {
    size_t nl = problems.find('\n', from);
    if (nl == std::string_view::npos) nl = problems.size();
    v.problems.emplace_back(problems.substr(from, nl - from));
    from = nl + 1;
  }
  v.dies_seen = h.dies_seen;
  v.name_count = h.name_count;
  return v;
}

}  // namespace coroner::index_payload
