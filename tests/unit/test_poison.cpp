// The poison catalog (data/poison.yaml and users' files) and the run finder behind `scan`.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "coroner/poison/poison_catalog.hpp"
#include "coroner/poison/run_finder.hpp"

using namespace coroner;

namespace {

const PoisonCatalog& shipped() { return PoisonCatalog::shipped(); }

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
