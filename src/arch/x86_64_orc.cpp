#include "coroner/arch/x86_64_orc.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>


namespace coroner::x86_64 {

OrcEntry decode_orc_entry(const uint8_t* b, const OrcLayout& layout) {
  OrcEntry e;
  std::memcpy(&e.sp_offset, b, 2);
  std::memcpy(&e.bp_offset, b + 2, 2);
  uint16_t bits = static_cast<uint16_t>(b[4] | b[5] << 8);
  auto field = [&](uint32_t at, uint32_t width) { return static_cast<uint8_t>((bits >> at) & ((1u << width) - 1)); };
  e.sp_reg = static_cast<OrcReg>(field(layout.sp_reg_bit, 4));
  e.bp_reg = static_cast<OrcReg>(field(layout.bp_reg_bit, 4));
  uint8_t type = field(layout.type_bit, layout.type_bits);
  if (layout.type_bits >= 3) {
    // 6.4+: UNDEFINED 0, END_OF_STACK 1, CALL 2, REGS 3, REGS_PARTIAL 4.
    e.type = type <= 4 ? static_cast<OrcType>(type) : OrcType::undefined;
  } else {
    // Before: CALL 0, REGS 1, REGS_PARTIAL 2.
    static constexpr OrcType kOld[] = {OrcType::call, OrcType::regs, OrcType::regs_partial, OrcType::undefined};
    e.type = kOld[type & 3];
  }
  if (layout.end_bit >= 0) e.end = field(static_cast<uint32_t>(layout.end_bit), 1);
  if (layout.signal_bit >= 0) e.signal = field(static_cast<uint32_t>(layout.signal_bit), 1);
  if (e.type == OrcType::end_of_stack) e.end = true;
  return e;
}

OrcTable make_orc_table(std::string owner, std::span<const uint8_t> ip_bytes, uint64_t ip_section_address,
                        std::span<const uint8_t> entry_bytes, const OrcLayout& layout) {
  OrcTable t;
  t.owner = std::move(owner);
  size_t n = std::min(ip_bytes.size() / 4, entry_bytes.size() / 6);
  t.ips.resize(n);
  t.entries.resize(n);
  for (size_t i = 0; i < n; ++i) {
    int32_t rel;
    std::memcpy(&rel, ip_bytes.data() + 4 * i, 4);
    t.ips[i] = ip_section_address + 4 * i + static_cast<int64_t>(rel);
    t.entries[i] = decode_orc_entry(entry_bytes.data() + 6 * i, layout);
  }
  // The build (sorttable) and module loading sort the tables; a dump can still hold garbage, so
  // check, and sort what is not sorted.
  if (!std::is_sorted(t.ips.begin(), t.ips.end())) {
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return t.ips[a] < t.ips[b]; });
    std::vector<uint64_t> ips(n);
    std::vector<OrcEntry> entries(n);
    for (size_t i = 0; i < n; ++i) ips[i] = t.ips[order[i]], entries[i] = t.entries[order[i]];
    t.ips.swap(ips);
    t.entries.swap(entries);
  }
  if (n) {
    t.text = {{t.ips.front(), t.ips.back() + 1}};
  }
  return t;
}

const OrcEntry* OrcIndex::find(uint64_t ip) const {
  for (const OrcTable& t : tables_) {
    if (!t.covers(ip)) continue;
    auto it = std::upper_bound(t.ips.begin(), t.ips.end(), ip);
    if (it == t.ips.begin()) continue;
    return &t.entries[static_cast<size_t>(it - t.ips.begin()) - 1];
  }
  return nullptr;
}

size_t OrcIndex::entry_count() const {
  size_t n = 0;
  for (const OrcTable& t : tables_) n += t.ips.size();
  return n;
}

bool OrcTable::covers(uint64_t ip) const {
  for (const auto& [start, end] : text) {
    if (ip >= start && ip < end) return true;
  }
  return false;
}

bool OrcIndex::has(std::string_view owner) const {
  for (const auto& t : tables_) {
    if (t.owner == owner) return true;
  }
  return false;
}

}  // namespace coroner::x86_64
