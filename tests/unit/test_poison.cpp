// The poison catalog (data/poison.yaml and users' files) and the run finder behind `scan`.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "coroner/dump/dump.hpp"
#include "coroner/poison/physical_runs.hpp"
#include "coroner/poison/poison_catalog.hpp"
#include "coroner/poison/run_finder.hpp"
#include "../support/dump_builder.hpp"

using namespace coroner;
using namespace coroner::testing;

namespace {

const PoisonCatalog& shipped() { return PoisonCatalog::shipped(); }

// What a run is, read word by word with nothing skipped: aligned words whose eight bytes are one
// pattern's (a byte eight times, or a 32-bit value twice; for a byte-repeated word only a byte
// pattern), consecutive words of one pattern, then up to 7 more bytes each side that continue it.
struct ExpectedRun {
  uint64_t at, length;
  std::string pattern;
  bool operator==(const ExpectedRun&) const = default;
};

void PrintTo(const ExpectedRun& r, std::ostream* os) {
  *os << r.pattern << " at 0x" << std::hex << r.at << std::dec << ", " << r.length << " bytes";
}

const PoisonPattern* word_pattern(uint64_t w, const std::vector<const PoisonPattern*>& patterns) {
  bool byte_repeat = w == (w & 0xff) * 0x0101010101010101ull;
  for (const PoisonPattern* p : patterns) {
    if ((p->width == 1) == byte_repeat && (p->width == 1 || p->width == 4) && p->word() == w) return p;
  }
  return nullptr;
}

std::vector<ExpectedRun> reference_runs(std::span<const uint8_t> bytes, uint64_t base,
                                const std::vector<const PoisonPattern*>& patterns, size_t min_run) {
  std::vector<ExpectedRun> out;
  const size_t words = bytes.size() / 8;
  auto word = [&](size_t i) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + 8 * i, 8);
    return w;
  };
  for (size_t i = 0; i < words;) {
    const PoisonPattern* p = word_pattern(word(i), patterns);
    if (!p) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < words && word_pattern(word(j), patterns) == p) ++j;
    size_t start = 8 * i, end = 8 * j;
    for (size_t k = 0; k < 7 && start > 0 && RunFinder::byte_matches(*p, bytes[start - 1], base + start - 1); ++k) --start;
    for (size_t k = 0; k < 7 && end < bytes.size() && RunFinder::byte_matches(*p, bytes[end], base + end); ++k) ++end;
    if (end - start >= std::max<size_t>(min_run, 16)) out.push_back({base + start, end - start, p->name});
    i = j;
  }
  return out;
}

std::vector<ExpectedRun> closed_runs(const RunFinder& finder, std::span<const uint8_t> bytes) {
  std::vector<ExpectedRun> out;
  finder.find(bytes, [&](const FoundRun& r) {
    if (r.length >= finder.min_run()) out.push_back({r.offset, r.length, r.pattern->name});
  });
  return out;
}

// Memory as a dump holds it: mostly words no poison search should stop long at (zeros, all-ones,
// pointers, words with equal halves), with runs of every kind of pattern planted at every
// alignment, next to each other and to stray pattern bytes.
std::vector<uint8_t> hostile_memory(std::mt19937_64& rng, size_t size, const std::vector<const PoisonPattern*>& patterns) {
  std::vector<uint8_t> m(size);
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t w = 0;
    switch (rng() % 6) {
      case 0: w = 0; break;
      case 1: w = ~uint64_t{0}; break;
      case 2: w = 0xffff888000000000ull | (rng() & 0xffffff8); break;
      case 3: w = (rng() & 0xffffffff) * 0x100000001ull; break;
      default: w = rng();
    }
    std::memcpy(m.data() + i, &w, 8);
  }
  for (int n = 0; n < 40; ++n) {
    const PoisonPattern* p = patterns[rng() % patterns.size()];
    if (p->width == 8) continue;
    size_t length = 1 + rng() % 300, at = rng() % size;
    if (p->width == 4) at &= ~size_t{3};
    for (size_t i = at; i < std::min(size, at + length); ++i) m[i] = static_cast<uint8_t>(p->word() >> (8 * (i % 8)));
  }
  return m;
}

std::string matched(uint64_t value, unsigned size, const char* os = "linux") {
  auto m = shipped().match_scalar(value, size, os);
  if (!m) return "";
  return m->pattern->name + (m->delta ? "+" + std::to_string(m->delta) : "");
}

}  // namespace

TEST(PoisonCatalog, TheShippedCatalogHoldsTheIssuesPatterns) {
  for (const char* name : {"POISON_FREE", "POISON_INUSE", "POISON_END", "SLUB_RED_INACTIVE", "SLUB_RED_ACTIVE",
                           "PAGE_POISON", "LIST_POISON1", "LIST_POISON2", "SPINLOCK_MAGIC", "UMA_JUNK",
                           "KMEM_FREE_PATTERN", "KMEM_UNINITIALIZED_PATTERN", "KMEM_REDZONE_PATTERN"}) {
    EXPECT_NE(shipped().find(name), nullptr) << name;
  }
  EXPECT_EQ(shipped().find("SPINLOCK_MAGIC")->state, "live-magic");  // a live lock, not poison
  EXPECT_EQ(shipped().find("UMA_JUNK")->value, 0xdeadc0deu);
}

TEST(PoisonCatalog, ScalarsMatchWholeFromTheDumpsOsFirst) {
  EXPECT_EQ(matched(0x6b6b6b6b6b6b6b6b, 8), "POISON_FREE");
  EXPECT_EQ(matched(0x5a5a5a5a5a5a5a5a, 8), "POISON_INUSE");        // Linux's meaning, not jemalloc's
  EXPECT_EQ(matched(0x5a5a5a5a5a5a5a5a, 8, "macos"), "JEMALLOC_FREE_JUNK");
  EXPECT_EQ(matched(0xa56b6b6b6b6b6b6b, 8), "POISON_FREE");         // a freed object's last word
  EXPECT_EQ(matched(0xdead4ead, 4), "SPINLOCK_MAGIC");
  EXPECT_EQ(matched(0xdead000000000122, 8), "LIST_POISON2");
  EXPECT_EQ(matched(0xdeadc0dedeadc0de, 8, "freebsd"), "UMA_JUNK");  // seed 002's lwb_issued_timestamp
  EXPECT_EQ(matched(0xdeadc0dedeadc0de, 8), "");                     // FreeBSD's, not Linux's
  EXPECT_EQ(matched(0x6b6b6b6b6b6b6b73, 8), "POISON_FREE+8");        // a member reached through poison
  EXPECT_EQ(matched(0x6b6b, 2), "");                                 // "kk" is just text
  EXPECT_EQ(matched(0x6b6b6b6b, 4), "POISON_FREE");
  EXPECT_EQ(matched(0x6b6b6b6b00000000, 8), "");
  EXPECT_EQ(matched(0xffff888003968a50, 8), "");
}

TEST(PoisonCatalog, LongestByteRunInACharArray) {
  const uint8_t d_iname[] = {'1', '0', 0, 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z'};
  auto run = shipped().longest_byte_run(d_iname, "linux", 4);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->pattern->name, "POISON_INUSE");
  EXPECT_EQ(run->offset, 3u);
  EXPECT_EQ(run->length, 14u);
  const uint8_t text[] = {'k', 'k', 'k', 0};
  EXPECT_FALSE(shipped().longest_byte_run(text, "linux", 4).has_value());
}

TEST(PoisonCatalog, UserFilesMergeAndTheirErrorsNameFileLineAndColumn) {
  auto mine = PoisonCatalog::parse("patterns:\n  - {name: MY_FREE, value: 0x77, width: 1, os: linux, meaning: mine}\n"
                                   "  - {name: POISON_FREE, value: 0x6c, width: 1, os: linux, meaning: renamed}\n",
                                   "mine.yaml");
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  PoisonCatalog c = shipped();
  c.merge(*mine);
  EXPECT_EQ(c.find("MY_FREE")->value, 0x77u);
  EXPECT_EQ(c.find("POISON_FREE")->value, 0x6cu);
  auto width = PoisonCatalog::parse("patterns:\n  - {name: X, value: 0x1, width: 3, meaning: m}\n", "bad.yaml");
  ASSERT_FALSE(width.ok());
  EXPECT_NE(width.error().message.find("bad.yaml:2:"), std::string::npos) << width.error().message;
  EXPECT_NE(width.error().message.find("width must be 1, 4 or 8"), std::string::npos);
  auto wide = PoisonCatalog::parse("patterns:\n  - {name: X, value: 0x1ff, width: 1, meaning: m}\n", "w.yaml");
  ASSERT_FALSE(wide.ok());
  EXPECT_NE(wide.error().message.find("wider than 1 bytes"), std::string::npos) << wide.error().message;
  auto syntax = PoisonCatalog::parse("patterns:\n  - {name: X, value: [\n", "s.yaml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.error().message.find("s.yaml:"), std::string::npos) << syntax.error().message;
  auto missing = PoisonCatalog::parse("patterns:\n  - {name: X, value: 0x1}\n", "m.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no `meaning`"), std::string::npos) << missing.error().message;
}

TEST(RunFinder, RunsAreFoundToTheExactByte) {
  std::vector<uint8_t> memory(4096, 0);
  std::memset(memory.data() + 101, 0x6b, 79);   // unaligned both ends
  std::memset(memory.data() + 1000, 0x6b, 15);  // too short
  for (size_t i = 2048; i < 2048 + 64; i += 4) {
    uint32_t junk = 0xdeadc0de;
    std::memcpy(memory.data() + i, &junk, 4);
  }
  RunFinder finder(shipped().for_os("freebsd"), 32);
  std::vector<FoundRun> none;
  finder.find(memory, [&](const FoundRun& r) { none.push_back(r); });
  ASSERT_EQ(none.size(), 1u);  // on FreeBSD 0x6b means nothing; 0xdeadc0de does
  EXPECT_EQ(none[0].pattern->name, "UMA_JUNK");
  EXPECT_EQ(none[0].offset, 2048u);
  EXPECT_EQ(none[0].length, 64u);
  RunFinder linux_finder(shipped().for_os("linux"), 16);
  std::vector<FoundRun> runs;
  linux_finder.find(memory, [&](const FoundRun& r) { runs.push_back(r); });
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].pattern->name, "POISON_FREE");
  EXPECT_EQ(runs[0].offset, 101u);
  EXPECT_EQ(runs[0].length, 79u);
}

TEST(RunFinder, FindsWhatAWordByWordReadingFindsOnHostileMemory) {
  auto with_zero = PoisonCatalog::parse(
      "patterns:\n  - {name: ZERO_FILL, value: 0x0, meaning: a catalog may name zero}\n"
      "  - {name: ALL_ONES, value: 0xffffffff, width: 4, meaning: or all-ones}\n", "mine.yaml");
  ASSERT_TRUE(with_zero.ok()) << with_zero.error().message;
  std::vector<const PoisonPattern*> zero_too = shipped().for_os("linux");
  for (const PoisonPattern* p : with_zero->for_os("linux")) zero_too.push_back(p);
  std::mt19937_64 rng(22);
  size_t runs = 0;
  for (const auto& patterns : {shipped().for_os("linux"), shipped().for_os("illumos"), zero_too}) {
    for (size_t min_run : {16, 32}) {
      RunFinder finder(patterns, min_run);
      for (int round = 0; round < 60; ++round) {
        auto memory = hostile_memory(rng, 64 + rng() % 9000, patterns);
        // Memory that does not start on a 16-byte boundary, as a span of a buffer may not.
        size_t skip = 8 * (rng() % 3);
        std::span<const uint8_t> bytes(memory.data() + skip, memory.size() - skip);
        auto expected = reference_runs(bytes, 0, patterns, min_run);
        ASSERT_EQ(closed_runs(finder, bytes), expected) << "round " << round << ", min_run " << min_run;
        runs += expected.size();
      }
    }
  }
  EXPECT_GT(runs, 1000u);  // the memory held runs to find
}

TEST(RunFinder, RunsAtTheEdgesAreReportedOpenWhateverTheirLength) {
  RunFinder finder(shipped().for_os("linux"), 32);
  std::vector<uint8_t> memory(256, 0x11);
  std::memset(memory.data(), 0x6b, 8);         // one word at the start
  std::memset(memory.data() + 100, 0x6b, 40);  // closed, long enough
  std::memset(memory.data() + 200, 0x5a, 30);  // closed, too short
  std::memset(memory.data() + 243, 0xcc, 13);  // a word and 5 bytes before it, at the end
  std::vector<FoundRun> found;
  finder.find(memory, [&](const FoundRun& r) { found.push_back(r); });
  ASSERT_EQ(found.size(), 3u);
  EXPECT_TRUE(found[0].open_start && !found[0].open_end);
  EXPECT_EQ(found[0].length, 8u);
  EXPECT_EQ(found[1].offset, 100u);
  EXPECT_FALSE(found[1].open_start || found[1].open_end);
  EXPECT_EQ(found[2].offset, 243u);
  EXPECT_EQ(found[2].length, 13u);
  EXPECT_TRUE(found[2].open_end && !found[2].open_start);
}

namespace {

// Runs planted where a pass over a dump is cut: at 256 KiB spans, at the 16 MiB batch edge, against
// missing pages and segment ends, and one of 20 bytes split 10/10 that only joining finds.
struct CutMemory {
  PhysicalImage image;
  uint64_t size = 17 * (1u << 20) + 5 * kPage;
  std::vector<uint64_t> excluded = {(4u << 20) / kPage, (9u << 20) / kPage};
  CutMemory() {
    std::mt19937_64 rng(7);
    for (uint64_t at = 0; at < size; at += kPage) {
      Bytes page(kPage);
      for (size_t i = 0; i < kPage; i += 8) {
        uint64_t w = rng() % 3 ? 0 : rng();
        std::memcpy(page.data() + i, &w, 8);
      }
      image.write(at, page);
    }
    plant(0x6b, (256u << 10) - 13, 53);
    plant(0x5a, (16u << 20) - 4100, 9100);
    plant(0xcc, (512u << 10) - 10, 20);
    plant(0x5a, (768u << 10) - 5, 40);   // 5 bytes, no whole word, before a span's first
    plant(0x6b, (1280u << 10) - 40, 43);  // 3 bytes after a span's last word
    plant(0xa5, (17u << 20) - 37, 37);                     // to the end of the first segment
    plant(0xa5, (17u << 20) + kPage, 40);                  // from the start of the second
    plant(0x6b, excluded[0] * kPage - 21, 21 + kPage + 33);  // through an excluded page
    plant(0xbb, excluded[1] * kPage + kPage, 19);          // right after one
    uint32_t magic = 0xdead4ead;
    for (uint64_t at = (1u << 20) - 64; at < (1u << 20) + 64; at += 4) image.put(at, magic);
  }
  void plant(uint8_t value, uint64_t at, uint64_t length) { image.write(at, Bytes(length, value)); }
  // The readable stretches of memory, as the dump holds them.
  std::vector<std::pair<uint64_t, uint64_t>> held(bool kdump) const {
    std::vector<std::pair<uint64_t, uint64_t>> out = {{0, 17u << 20}, {(17u << 20) + kPage, size}};
    if (!kdump) return out;
    std::vector<std::pair<uint64_t, uint64_t>> split;
    for (auto [from, to] : out) {
      for (uint64_t pfn : excluded) {
        uint64_t at = pfn * kPage;
        if (at < from || at >= to) continue;
        split.emplace_back(from, at);
        from = at + kPage;
      }
      split.emplace_back(from, to);
    }
    return split;
  }
};

std::vector<ExpectedRun> pass_runs(const Dump& dump, const RunFinder& finder, unsigned threads) {
  RunPass pass = find_physical_runs(dump, finder, 0, ~uint64_t{0}, threads);
  std::vector<ExpectedRun> out;
  for (const PhysicalRun& r : pass.runs) out.push_back({r.physical, r.length, r.pattern->name});
  return out;
}

}  // namespace

TEST(PhysicalRuns, WhereThePassIsCutChangesNothing) {
  CutMemory memory;
  auto patterns = shipped().for_os("linux");
  RunFinder finder(patterns, 16);
  std::vector<Segment> segments = {{0, 17u << 20}, {(17u << 20) + kPage, memory.size - (17u << 20) - kPage}};
  KdumpOptions options;
  options.excluded_pfns = {memory.excluded.begin(), memory.excluded.end()};
  options.hole_pfns = {(17u << 20) / kPage};
  for (bool kdump : {false, true}) {
    Bytes file = kdump ? build_kdump(memory.image, memory.size / kPage, {}, "", options)
                       : build_elf_core(memory.image, segments, {});
    auto dump = open_dump(std::make_shared<BufferSource>("cut.dump", file));
    ASSERT_TRUE(dump.ok()) << dump.error().message;
    std::vector<ExpectedRun> expected;
    for (auto [from, to] : memory.held(kdump)) {
      auto bytes = memory.image.range(from, to - from);
      for (const ExpectedRun& r : reference_runs(bytes, from, patterns, 16)) expected.push_back(r);
    }
    ASSERT_EQ(expected.size(), kdump ? 11u : 10u);  // the run through an excluded page is two there
    EXPECT_EQ(pass_runs(**dump, finder, 1), expected) << (kdump ? "kdump" : "ELF");
    EXPECT_EQ(pass_runs(**dump, finder, 2), expected) << (kdump ? "kdump" : "ELF");
    EXPECT_EQ(pass_runs(**dump, finder, 5), expected) << (kdump ? "kdump" : "ELF");
    RunPass pass = find_physical_runs(**dump, finder, 0, ~uint64_t{0}, 2);
    EXPECT_EQ(pass.threads, 2u);
    EXPECT_EQ(pass.bytes_unreadable, kdump ? 2 * kPage : 0u);  // the hole is not memory
  }
}

TEST(PhysicalRuns, ARangeEndsRunsAtItsEdges) {
  CutMemory memory;
  auto patterns = shipped().for_os("linux");
  Bytes file = build_elf_core(memory.image, {{0, 17u << 20}}, {});
  auto dump = open_dump(std::make_shared<BufferSource>("range.dump", file));
  ASSERT_TRUE(dump.ok());
  RunFinder finder(patterns, 16);
  const uint64_t low = (16u << 20) - 1000, high = (16u << 20) + 3;
  RunPass pass = find_physical_runs(**dump, finder, low, high, 1);
  ASSERT_EQ(pass.runs.size(), 1u);  // the 0x5a run, cut to the range
  EXPECT_EQ(pass.runs[0].physical, low);
  EXPECT_EQ(pass.runs[0].length, high - low);
  EXPECT_EQ(pass.bytes_read, high - low);
}

