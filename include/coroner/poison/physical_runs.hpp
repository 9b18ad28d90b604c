#pragma once
// The pass of `scan`: every run of poison in a dump's physical memory, in address order, found on
// as many threads as pay for themselves. A run that the pass's spans cut (at chunk, thread and
// missing-page edges) is joined and carried to its exact first and last byte before its length is
// judged, so where the pass is cut never changes what it finds.
#include <cstdint>
#include <vector>

#include "coroner/dump/dump.hpp"
#include "coroner/poison/run_finder.hpp"

namespace coroner {

struct PhysicalRun {
  uint64_t physical = 0, length = 0;
  const PoisonPattern* pattern = nullptr;
};

struct RunPass {
  std::vector<PhysicalRun> runs;  // in address order
  uint64_t bytes_read = 0, bytes_unreadable = 0;
  size_t threads = 1;
  double seconds = 0;
};

// Runs within [low, high). `threads` 0: one per core, for a range large enough to share.
RunPass find_physical_runs(const Dump& dump, const RunFinder& finder, uint64_t low = 0, uint64_t high = ~uint64_t{0},
                           unsigned threads = 0);

}  // namespace coroner
