#include "coroner/poison/run_finder.hpp"

#include <algorithm>
#include <cstring>

namespace coroner {

RunFinder::RunFinder(const std::vector<const PoisonPattern*>& patterns, size_t min_run)
    : min_run_(std::max<size_t>(min_run, 16)) {
  // The first pattern for a value wins: callers pass the dump's OS's own patterns first.
  for (const PoisonPattern* p : patterns) {
    if (p->width == 1 && !bytes_[p->value & 0xff]) bytes_[p->value & 0xff] = p;
    if (p->width == 4) words_.emplace_back(static_cast<uint32_t>(p->value), p);
  }
}

const PoisonPattern* RunFinder::classify(uint64_t w) const {
  if (w == (w & 0xff) * 0x0101010101010101ull) return bytes_[w & 0xff];
  if ((w >> 32) != (w & 0xffffffff)) return nullptr;
  for (const auto& [value, p] : words_) {
    if (value == static_cast<uint32_t>(w)) return p;
  }
  return nullptr;
}

void RunFinder::find(std::span<const uint8_t> bytes, const std::function<void(const FoundRun&)>& found) const {
  const size_t words = bytes.size() / 8;
  auto byte_matches = [&](size_t i, const PoisonPattern* p) {
    return p->width == 1 ? bytes[i] == p->value : bytes[i] == ((p->value >> (8 * (i % 4))) & 0xff);
  };
  for (size_t i = 0; i < words;) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + 8 * i, 8);
    const PoisonPattern* p = classify(w);
    if (!p) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    for (; j < words; ++j) {
      std::memcpy(&w, bytes.data() + 8 * j, 8);
      if (classify(w) != p) break;
    }
    // To the exact bytes: back into the word before, on into the word after.
    size_t start = 8 * i, end = 8 * j;
    while (start > 0 && start > 8 * i - std::min<size_t>(8 * i, 7) && byte_matches(start - 1, p)) --start;
    while (end < bytes.size() && end < 8 * j + 7 && byte_matches(end, p)) ++end;
    if (end - start >= min_run_) found({start, end - start, p});
    i = j;
  }
}

}  // namespace coroner
