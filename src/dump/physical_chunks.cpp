#include "coroner/dump/physical_chunks.hpp"

#include <algorithm>
#include <vector>

namespace coroner {
namespace {

constexpr uint64_t kChunk = 1u << 20;
constexpr uint64_t kPage = 4096;

}  // namespace

ChunkTotals for_each_physical_chunk(const Dump& dump, const ChunkVisitor& visit, uint64_t low, uint64_t high) {
  ChunkTotals totals;
  std::vector<uint8_t> buffer(kChunk);
  for (const PhysicalRange& r : dump.physical_ranges()) {
    uint64_t start = std::max(r.start, low), end = std::min(r.start + r.size, high);
    for (uint64_t at = start; at < end; at += kChunk) {
      uint64_t size = std::min(kChunk, end - at);
      if (dump.read_physical(at, {buffer.data(), size})) {
        totals.bytes_read += size;
        visit(at, {buffer.data(), size});
        continue;
      }
      for (uint64_t page = at; page < at + size; page += kPage) {
        uint64_t n = std::min(kPage, at + size - page);
        if (dump.read_physical(page, {buffer.data(), n})) {
          totals.bytes_read += n;
          visit(page, {buffer.data(), n});
        } else {
          totals.bytes_unreadable += n;
        }
      }
    }
  }
  return totals;
}

}  // namespace coroner
