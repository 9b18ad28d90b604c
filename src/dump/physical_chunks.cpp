#include "coroner/dump/physical_chunks.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

namespace coroner {
namespace {

// Small enough to stay in a core's cache between the copy and the visit.
constexpr uint64_t kChunk = 256u << 10;
constexpr uint64_t kBatch = 16u << 20;

using ChunkVisitor = std::function<void(uint64_t physical, std::span<const uint8_t> bytes)>;

std::vector<PhysicalRange> clipped(const std::vector<PhysicalRange>& ranges, uint64_t low, uint64_t high) {
  std::vector<PhysicalRange> out;
  for (const PhysicalRange& r : ranges) {
    uint64_t end = r.size > ~uint64_t{0} - r.start ? ~uint64_t{0} : r.start + r.size;
    uint64_t start = std::max(r.start, low);
    end = std::min(end, high);
    if (start < end) out.push_back({start, end - start});
  }
  return out;
}

uint64_t bytes_in(const std::vector<PhysicalRange>& ranges) {
  uint64_t sum = 0;
  for (const PhysicalRange& r : ranges) sum += r.size;
  return sum;
}

// What the dump describes in [low, high) but its headers say it does not hold is unreadable
// without a read being tried.
void count_unheld(const Dump& dump, uint64_t low, uint64_t high, ChunkTotals& totals) {
  uint64_t described = bytes_in(clipped(dump.physical_ranges(), low, high));
  uint64_t seen = totals.bytes_read + totals.bytes_unreadable;
  if (described > seen) totals.bytes_unreadable += described - seen;
}

// [at, at + size) page by page into `buffer`: runs of readable pages are visited, missing ones
// counted.
void visit_span(const Dump& dump, uint64_t at, uint64_t size, std::vector<uint8_t>& buffer, const ChunkVisitor& visit,
                ChunkTotals& totals) {
  const uint64_t page_size = std::clamp<uint64_t>(dump.storage_page_size(), 512, kChunk);
  if (dump.read_physical_once(at, {buffer.data(), size})) {
    totals.bytes_read += size;
    visit(at, {buffer.data(), size});
    return;
  }
  uint64_t filled = 0, filled_at = at;
  auto flush = [&] {
    if (filled) visit(filled_at, {buffer.data(), filled});
    filled = 0;
  };
  for (uint64_t page = at; page < at + size;) {
    uint64_t n = std::min(page_size - page % page_size, at + size - page);
    if (dump.read_physical_once(page, {buffer.data() + filled, n})) {
      if (!filled) filled_at = page;
      filled += n;
      totals.bytes_read += n;
    } else {
      flush();
      totals.bytes_unreadable += n;
    }
    page += n;
  }
  flush();
}

void visit_range(const Dump& dump, const PhysicalRange& r, std::vector<uint8_t>& buffer, const ChunkVisitor& visit,
                 ChunkTotals& totals) {
  buffer.resize(kChunk);
  for (uint64_t at = r.start; at < r.start + r.size;) {
    uint64_t size = std::min(kChunk - at % kChunk, r.start + r.size - at);
    visit_span(dump, at, size, buffer, visit, totals);
    at += size;
  }
}

}  // namespace

PhysicalBatches::PhysicalBatches(const Dump& dump, uint64_t low, uint64_t high) : dump_(dump), low_(low), high_(high) {
  for (const PhysicalRange& r : clipped(dump.held_ranges(), low, high)) {
    bytes_ += r.size;
    for (uint64_t at = r.start; at < r.start + r.size;) {
      uint64_t size = std::min(kBatch - at % kBatch, r.start + r.size - at);
      batches_.push_back({at, size});
      at += size;
    }
  }
}

size_t PhysicalBatches::threads_for(unsigned requested) const {
  constexpr uint64_t kMinBytesPerThread = 64ull << 20;
  if (requested) return requested;
  return std::min<uint64_t>(std::max(1u, std::thread::hardware_concurrency()), bytes_ / kMinBytesPerThread + 1);
}

ChunkTotals PhysicalBatches::visit(size_t threads, const BatchVisitor& visit) const {
  threads = std::clamp<size_t>(threads, 1, std::max<size_t>(batches_.size(), 1));
  std::vector<ChunkTotals> totals(threads);
  std::atomic<size_t> next{0};
  auto work = [&](size_t worker) {
    std::vector<uint8_t> buffer;
    for (size_t b; (b = next.fetch_add(1)) < batches_.size();) {
      visit_range(dump_, batches_[b], buffer,
                  [&](uint64_t at, std::span<const uint8_t> bytes) { visit(b, at, bytes); }, totals[worker]);
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (size_t i = 1; i < threads; ++i) helpers.emplace_back(work, i);
    work(0);
  }
  ChunkTotals sum;
  sum.threads = threads;
  for (const ChunkTotals& t : totals) {
    sum.bytes_read += t.bytes_read;
    sum.bytes_unreadable += t.bytes_unreadable;
  }
  count_unheld(dump_, low_, high_, sum);
  return sum;
}

}  // namespace coroner
