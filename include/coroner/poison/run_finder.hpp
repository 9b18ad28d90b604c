#pragma once
// Runs of poison in memory at memory speed. A run is made of aligned 8-byte words of one pattern (a
// byte repeated eight times, or a 32-bit value twice), extended to its exact first and last byte.
// Words that cannot be poison (halves that differ; zero and all-ones, which fill memory, unless the
// catalog names them) are skipped 64 bytes at a time with vector compares; a run, once found, is
// followed the same way.
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "coroner/poison/poison_catalog.hpp"

namespace coroner {

struct FoundRun {
  size_t offset = 0, length = 0;
  const PoisonPattern* pattern = nullptr;
  // The run reaches the first or last byte of the bytes searched: it may go on in the bytes
  // before or after them (the previous or next span of a pass).
  bool open_start = false, open_end = false;
};

class RunFinder {
 public:
  // Byte and 32-bit patterns only (a 64-bit pattern is one word, not a run). `min_run` >= 16.
  RunFinder(const std::vector<const PoisonPattern*>& patterns, size_t min_run);
  // Every run of at least min_run bytes in `bytes`, in order, and every shorter one that is open
  // (a pass over contiguous spans joins those before judging their length). Safe to call from
  // several threads at once.
  void find(std::span<const uint8_t> bytes, const std::function<void(const FoundRun&)>& found) const;
  // The pattern of one aligned word, or null.
  const PoisonPattern* classify(uint64_t word) const;
  // Whether byte `b`, at an address that is `phase` modulo 4, belongs to a run of `p`.
  static bool byte_matches(const PoisonPattern& p, uint8_t b, uint64_t phase);
  size_t min_run() const { return min_run_; }

 private:
  size_t next_candidate(const uint8_t* words, size_t i, size_t count) const;
  std::array<const PoisonPattern*, 256> bytes_{};
  std::vector<std::pair<uint32_t, const PoisonPattern*>> words_;
  bool skip_zero_ = true, skip_ones_ = true;
  size_t min_run_;
};

}  // namespace coroner
