#pragma once
// Every byte of physical memory a dump holds, visited in order in chunks of up to 1 MiB (one read
// each), falling back to page by page where the dump lacks part of a chunk (filtered or excluded
// pages, holes). The scans over all of memory (search, scan) are built on it.
#include <cstdint>
#include <functional>
#include <span>

#include "coroner/dump/dump.hpp"

namespace coroner {

using ChunkVisitor = std::function<void(uint64_t physical, std::span<const uint8_t> bytes)>;

struct ChunkTotals {
  uint64_t bytes_read = 0;
  uint64_t bytes_unreadable = 0;
};

// Only [low, high) of physical memory when given.
ChunkTotals for_each_physical_chunk(const Dump& dump, const ChunkVisitor& visit, uint64_t low = 0,
                                    uint64_t high = ~uint64_t{0});

}  // namespace coroner
