#pragma once
// Every byte of physical memory a dump holds (its held_ranges), visited in address order in spans
// of up to 256 KiB, each read once (no cache filled, copied from the file rather than faulted in
// through its mapping, into a buffer that stays in the CPU's cache); a page that fails to read is
// counted and skipped, and the readable pages around it are visited as spans of their own. What the
// dump describes but does not hold is counted unreadable without a read. The passes over all of
// memory (search, scan) are built on it, cut into batches visited on one thread or several.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "coroner/dump/dump.hpp"

namespace coroner {

// `batch` says which batch the span belongs to; batches are visited concurrently.
using BatchVisitor = std::function<void(size_t batch, uint64_t physical, std::span<const uint8_t> bytes)>;

struct ChunkTotals {
  uint64_t bytes_read = 0;
  uint64_t bytes_unreadable = 0;
  size_t threads = 1;
};

// The pass (over [low, high) of physical memory when given) cut into batches of at most 16 MiB, in
// address order: batch i lies wholly below batch i + 1, and its spans are visited in order by one
// thread. Threads take the next batch as they finish one, so pages that cost more (compressed, or
// many excluded) do not leave a thread idle.
class PhysicalBatches {
 public:
  PhysicalBatches(const Dump& dump, uint64_t low = 0, uint64_t high = ~uint64_t{0});
  size_t size() const { return batches_.size(); }
  uint64_t bytes() const { return bytes_; }  // held by the dump
  // `requested` threads, or for 0 one per core but no more than the bytes pay for (starting a
  // thread costs more than reading a few MiB).
  size_t threads_for(unsigned requested) const;
  // On `threads` threads (at least 1, at most one per batch); the calling thread is one of them.
  ChunkTotals visit(size_t threads, const BatchVisitor& visit) const;

 private:
  const Dump& dump_;
  uint64_t low_, high_;
  std::vector<PhysicalRange> batches_;
  uint64_t bytes_ = 0;
};

}  // namespace coroner
