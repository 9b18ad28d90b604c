#include "coroner/poison/run_finder.hpp"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace coroner {
namespace {

uint64_t word_at(const uint8_t* words, size_t i) {
  uint64_t w;
  std::memcpy(&w, words + 8 * i, 8);
  return w;
}

#if defined(__SSE2__)
__m128i load16(const uint8_t* at) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at)); }
#endif

// The first word from `i` on that is not `word`.
size_t end_of_same(const uint8_t* words, size_t i, size_t count, uint64_t word) {
#if defined(__SSE2__)
  const __m128i same = _mm_set1_epi64x(static_cast<long long>(word));
  for (; i + 8 <= count; i += 8) {
    const uint8_t* at = words + 8 * i;
    __m128i eq = _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(load16(at), same), _mm_cmpeq_epi8(load16(at + 16), same)),
                               _mm_and_si128(_mm_cmpeq_epi8(load16(at + 32), same), _mm_cmpeq_epi8(load16(at + 48), same)));
    if (_mm_movemask_epi8(eq) != 0xffff) break;
  }
#endif
  while (i < count && word_at(words, i) == word) ++i;
  return i;
}

}  // namespace

RunFinder::RunFinder(const std::vector<const PoisonPattern*>& patterns, size_t min_run)
    : min_run_(std::max<size_t>(min_run, 16)) {
  // The first pattern for a value wins: callers pass the dump's OS's own patterns first.
  for (const PoisonPattern* p : patterns) {
    if (p->width == 1 && !bytes_[p->value & 0xff]) bytes_[p->value & 0xff] = p;
    if (p->width == 4) words_.emplace_back(static_cast<uint32_t>(p->value), p);
  }
  skip_zero_ = !classify(0);
  skip_ones_ = !classify(~uint64_t{0});
}

const PoisonPattern* RunFinder::classify(uint64_t w) const {
  if (w == (w & 0xff) * 0x0101010101010101ull) return bytes_[w & 0xff];
  if ((w >> 32) != (w & 0xffffffff)) return nullptr;
  for (const auto& [value, p] : words_) {
    if (value == static_cast<uint32_t>(w)) return p;
  }
  return nullptr;
}

bool RunFinder::byte_matches(const PoisonPattern& p, uint8_t b, uint64_t phase) {
  return p.width == 1 ? b == p.value : b == ((p.value >> (8 * (phase % 4))) & 0xff);
}

size_t RunFinder::next_candidate(const uint8_t* words, size_t i, size_t count) const {
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128(), ones = _mm_set1_epi32(-1);
  const __m128i zero_dull = skip_zero_ ? ones : zero, ones_dull = skip_ones_ ? ones : zero;
  // Per 32-bit lane: set for both lanes of a word whose halves are equal and which is not dull.
  auto maybe = [&](const uint8_t* at) {
    __m128i v = load16(at);
    __m128i halves = _mm_cmpeq_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    __m128i dull = _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi32(v, zero), zero_dull),
                                _mm_and_si128(_mm_cmpeq_epi32(v, ones), ones_dull));
    return _mm_andnot_si128(dull, halves);
  };
  for (; i + 8 <= count; i += 8) {
    const uint8_t* at = words + 8 * i;
    __m128i any = _mm_or_si128(_mm_or_si128(maybe(at), maybe(at + 16)), _mm_or_si128(maybe(at + 32), maybe(at + 48)));
    if (_mm_movemask_epi8(any)) break;
  }
#endif
  for (; i < count; ++i) {
    uint64_t w = word_at(words, i);
    if ((w >> 32) != (w & 0xffffffff)) continue;
    if ((w == 0 && skip_zero_) || (w == ~uint64_t{0} && skip_ones_)) continue;
    return i;
  }
  return count;
}

void RunFinder::find(std::span<const uint8_t> bytes, const std::function<void(const FoundRun&)>& found) const {
  const uint8_t* data = bytes.data();
  const size_t words = bytes.size() / 8;
  for (size_t i = next_candidate(data, 0, words); i < words; i = next_candidate(data, i, words)) {
    const uint64_t w = word_at(data, i);
    const PoisonPattern* p = classify(w);
    if (!p) {
      ++i;
      continue;
    }
    const size_t j = end_of_same(data, i + 1, words, w);
    // To the exact bytes: back into the word before, on into the word after.
    size_t start = 8 * i, end = 8 * j;
    while (start > 0 && start + 7 > 8 * i && byte_matches(*p, data[start - 1], start - 1)) --start;
    while (end < bytes.size() && end < 8 * j + 7 && byte_matches(*p, data[end], end)) ++end;
    FoundRun run{start, end - start, p, start == 0, end == bytes.size()};
    if (run.length >= min_run_ || run.open_start || run.open_end) found(run);
    i = j;
  }
}

}  // namespace coroner
