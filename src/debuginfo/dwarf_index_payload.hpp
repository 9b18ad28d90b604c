#pragma once
// The DWARF name index's bytes, one layout for an index just built and one mapped from the cache:
// a header, the units, the hash table, the names, then the problems one per line.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/debuginfo/dwarf_index.hpp"

namespace coroner::index_payload {

using PackedSlot = DwarfIndex::PackedSlot;

// Lays out a payload with room for `slot_count` empty slots and up to `max_names` bytes of names,
// for the builder to fill in place.
class Builder {
 public:
  Builder(const std::vector<dwarf::UnitHeader>& units, uint64_t slot_count, uint64_t max_names, uint64_t dies_seen,
          uint64_t names);
  std::span<PackedSlot> slots();
  char* names();
  // Records the names' size and the problems; the finished payload.
  std::vector<uint8_t> finish(uint64_t names_size, const std::vector<std::string>& problems);

 private:
  std::vector<uint8_t> bytes_;
  uint64_t slots_at_ = 0, names_at_ = 0, slot_count_ = 0;
};

struct View {
  std::vector<dwarf::UnitHeader> units;
  std::span<const PackedSlot> slots;
  std::string_view names;
  std::vector<std::string> problems;
  uint64_t dies_seen = 0, name_count = 0;
};
// The parts of a payload; an error when its sizes do not add up.
Result<View> read(std::span<const uint8_t> payload);

}  // namespace coroner::index_payload
