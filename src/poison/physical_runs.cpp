#include "coroner/poison/physical_runs.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>

#include "coroner/dump/physical_chunks.hpp"

namespace coroner {
namespace {

struct OpenRun {
  PhysicalRun run;
  bool open_start = false, open_end = false;
};

// The bytes of [from, to) (at most 7), or nothing when the dump lacks them.
std::optional<std::array<uint8_t, 8>> edge_bytes(const Dump& dump, uint64_t from, uint64_t to) {
  std::array<uint8_t, 8> bytes{};
  if (to <= from || to - from > bytes.size()) return std::nullopt;
  if (!dump.read_physical_once(from, {bytes.data(), to - from})) return std::nullopt;
  return bytes;
}

// A run that reached the edge of the span it was found in goes on, byte by byte, into the bytes
// beyond: at most into the word before its first whole word and the word after its last.
void extend_across_edges(const Dump& dump, OpenRun& r, uint64_t low, uint64_t high) {
  const PoisonPattern& p = *r.run.pattern;
  uint64_t start = r.run.physical, end = r.run.physical + r.run.length;
  if (r.open_start) {
    uint64_t first_word = (start + 7) & ~uint64_t{7};
    uint64_t lowest = std::max(low, first_word >= 7 ? first_word - 7 : 0);
    if (auto bytes = edge_bytes(dump, lowest, start)) {
      while (start > lowest && RunFinder::byte_matches(p, (*bytes)[start - 1 - lowest], start - 1)) --start;
    }
  }
  if (r.open_end) {
    uint64_t highest = std::min(high, (end & ~uint64_t{7}) + 7);
    if (auto bytes = edge_bytes(dump, end, highest)) {
      uint64_t from = end;
      while (end < highest && RunFinder::byte_matches(p, (*bytes)[end - from], end)) ++end;
    }
  }
  r.run.physical = start;
  r.run.length = end - start;
}

bool continues(const OpenRun& before, const OpenRun& r) {
  return before.open_end && r.open_start && before.run.pattern == r.run.pattern &&
         before.run.physical + before.run.length == r.run.physical;
}

}  // namespace

RunPass find_physical_runs(const Dump& dump, const RunFinder& finder, uint64_t low, uint64_t high, unsigned threads) {
  RunPass out;
  auto started = std::chrono::steady_clock::now();
  PhysicalBatches batches(dump, low, high);
  std::vector<std::vector<OpenRun>> found(batches.size());
  auto totals = batches.visit(batches.threads_for(threads), [&](size_t batch, uint64_t base, std::span<const uint8_t> bytes) {
    finder.find(bytes, [&](const FoundRun& r) {
      found[batch].push_back({{base + r.offset, r.length, r.pattern}, r.open_start, r.open_end});
    });
  });
  std::optional<OpenRun> current;
  auto finish = [&] {
    if (!current) return;
    extend_across_edges(dump, *current, low, high);
    if (current->run.length >= finder.min_run()) out.runs.push_back(current->run);
  };
  for (const auto& batch : found) {
    for (const OpenRun& r : batch) {
      if (current && continues(*current, r)) {
        current->run.length += r.run.length;
        current->open_end = r.open_end;
        continue;
      }
      finish();
      current = r;
    }
  }
  finish();
  out.bytes_read = totals.bytes_read;
  out.bytes_unreadable = totals.bytes_unreadable;
  out.threads = totals.threads;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return out;
}

}  // namespace coroner
