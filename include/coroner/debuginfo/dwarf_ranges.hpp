#pragma once
// The code a unit covers when .debug_aranges does not say (clang writes none unless asked, and a
// stripped or partial table may lack units): the unit DIE's own range lists, DWARF 2-4's
// .debug_ranges and DWARF 5's .debug_rnglists, decoded in place with the bounds-checked cursor.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace coroner::dwarf {

struct PcRange {
  uint64_t begin = 0, end = 0;  // [begin, end)
};

// A list is cut short where it is malformed, and after this many entries, so that a hostile file
// naming one long list from every unit costs a bounded amount per unit.
inline constexpr size_t kMaxRangeListEntries = 1 << 16;

// The .debug_ranges list at `offset`: address pairs relative to `base` (the unit's DW_AT_low_pc)
// until a base-address selection changes it, ending at a pair of zeros.
std::vector<PcRange> read_range_list(std::span<const uint8_t> ranges, uint64_t offset, uint8_t address_size, uint64_t base);

// Resolves an index into the unit's .debug_addr table.
using AddressIndex = std::function<std::optional<uint64_t>(uint64_t index)>;

// The .debug_rnglists list at `offset` (from the section's start), every DW_RLE_* kind.
std::vector<PcRange> read_rnglist(std::span<const uint8_t> rnglists, uint64_t offset, uint8_t address_size, uint64_t base,
                                  const AddressIndex& addrx);

// Where list `index` (DW_FORM_rnglistx) starts: the offset table at the unit's DW_AT_rnglists_base
// holds offsets relative to that base.
std::optional<uint64_t> rnglist_offset(std::span<const uint8_t> rnglists, uint64_t rnglists_base, uint64_t index,
                                       uint8_t offset_size);

}  // namespace coroner::dwarf
