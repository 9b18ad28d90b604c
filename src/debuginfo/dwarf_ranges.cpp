#include "coroner/debuginfo/dwarf_ranges.hpp"

#include <libdwarf/dwarf.h>

#include "coroner/debuginfo/dwarf_units.hpp"

namespace coroner::dwarf {
namespace {

void add(std::vector<PcRange>& out, uint64_t begin, uint64_t end) {
  if (end > begin) out.push_back({begin, end});
}

}  // namespace

std::vector<PcRange> read_range_list(std::span<const uint8_t> ranges, uint64_t offset, uint8_t address_size, uint64_t base) {
  std::vector<PcRange> out;
  if (address_size != 4 && address_size != 8) return out;
  const uint64_t selection = address_size == 8 ? ~uint64_t{0} : 0xffffffffu;
  Cursor c(ranges, offset);
  for (size_t n = 0; n < kMaxRangeListEntries; ++n) {
    uint64_t begin = c.uint(address_size), end = c.uint(address_size);
    if (!c.ok() || (begin == 0 && end == 0)) break;
    if (begin == selection) {
      base = end;
      continue;
    }
    add(out, base + begin, base + end);
  }
  return out;
}

std::vector<PcRange> read_rnglist(std::span<const uint8_t> rnglists, uint64_t offset, uint8_t address_size, uint64_t base,
                                  const AddressIndex& addrx) {
  std::vector<PcRange> out;
  if (address_size != 4 && address_size != 8) return out;
  Cursor c(rnglists, offset);
  auto indexed = [&](uint64_t index, uint64_t& to) {
    auto a = addrx(index);
    if (a) to = *a;
    return a.has_value();
  };
  for (size_t n = 0; n < kMaxRangeListEntries && c.ok(); ++n) {
    uint8_t kind = c.u8();
    uint64_t begin = 0, end = 0;
    switch (kind) {
      case DW_RLE_end_of_list: return out;
      case DW_RLE_base_addressx:
        if (!indexed(c.uleb(), base)) return out;
        continue;
      case DW_RLE_startx_endx:
        if (!indexed(c.uleb(), begin) || !indexed(c.uleb(), end)) return out;
        break;
      case DW_RLE_startx_length:
        if (!indexed(c.uleb(), begin)) return out;
        end = begin + c.uleb();
        break;
      case DW_RLE_offset_pair:
        begin = base + c.uleb();
        end = base + c.uleb();
        break;
      case DW_RLE_base_address: base = c.uint(address_size); continue;
      case DW_RLE_start_end:
        begin = c.uint(address_size);
        end = c.uint(address_size);
        break;
      case DW_RLE_start_length:
        begin = c.uint(address_size);
        end = begin + c.uleb();
        break;
      default: return out;  // an unknown kind: its size is unknown, so nothing after it is read
    }
    if (c.ok()) add(out, begin, end);
  }
  return out;
}

std::optional<uint64_t> rnglist_offset(std::span<const uint8_t> rnglists, uint64_t rnglists_base, uint64_t index,
                                       uint8_t offset_size) {
  if (offset_size != 4 && offset_size != 8) return std::nullopt;
  if (rnglists_base > rnglists.size() || index > rnglists.size() / offset_size) return std::nullopt;
  Cursor c(rnglists, rnglists_base + index * offset_size);
  uint64_t relative = c.uint(offset_size);
  if (!c.ok() || relative > rnglists.size() - rnglists_base) return std::nullopt;
  return rnglists_base + relative;
}

}  // namespace coroner::dwarf
