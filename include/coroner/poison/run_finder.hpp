#pragma once
// Runs of poison in memory at memory speed: each aligned 8-byte word is classified with two
// compares (a byte repeated eight times, or a 32-bit value twice) and a table lookup, and runs of
// one pattern are extended to their exact first and last byte.
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
};

class RunFinder {
 public:
  // Byte and 32-bit patterns only (a 64-bit pattern is one word, not a run). `min_run` >= 16.
  RunFinder(const std::vector<const PoisonPattern*>& patterns, size_t min_run);
  // Every run of at least min_run bytes in `bytes`, in order.
  void find(std::span<const uint8_t> bytes, const std::function<void(const FoundRun&)>& found) const;
  size_t min_run() const { return min_run_; }

 private:
  const PoisonPattern* classify(uint64_t word) const;
  std::array<const PoisonPattern*, 256> bytes_{};
  std::vector<std::pair<uint32_t, const PoisonPattern*>> words_;
  size_t min_run_;
};

}  // namespace coroner
