// ELF core, kdump-compressed and flattened readers on synthetic dumps, including hostile ones.
#include <gtest/gtest.h>

#include <elf.h>

#include <random>

#include "coroner/dump/dump.hpp"
#include "coroner/dump/elf_core.hpp"
#include "coroner/dump/kdump_compressed.hpp"
#include "../support/dump_builder.hpp"
#include "../support/temp_file.hpp"

using namespace coroner;
using namespace coroner::testing;

namespace {

PhysicalImage patterned_memory(uint64_t pages) {
  PhysicalImage mem;
  for (uint64_t pfn = 0; pfn < pages; ++pfn) {
    Bytes pg(kPage);
    for (size_t i = 0; i < kPage; ++i) pg[i] = static_cast<uint8_t>((pfn * 131 + i / 8) & 0xff);
    mem.write(pfn * kPage, pg);
  }
  return mem;
}

Result<std::unique_ptr<Dump>> open_bytes(const Bytes& b) {
  return open_dump(std::make_shared<BufferSource>("synthetic.dump", b));
}

Bytes standard_notes() { return build_notes({{100, 0xffffffff81000010, 0xffffc90000001000, 0}, {0, 1, 2, 3}}, "OSRELEASE=6.1.0-synthetic\nPAGESIZE=4096\n", {0x10000, 0x10000}); }

}  // namespace

TEST(ElfCore, ReadsPhysicalMemoryAndNotes) {
  PhysicalImage mem = patterned_memory(8);
  Bytes core = build_elf_core(mem, {{0, 3 * kPage}, {5 * kPage, 3 * kPage}}, standard_notes());
  auto dump = open_bytes(core);
  ASSERT_TRUE(dump) << dump.error().message;
  const Dump& d = **dump;
  EXPECT_EQ(d.header().format, "ELF core");
  EXPECT_EQ(d.header().producer, DumpProducer::qemu);
  EXPECT_STREQ(producer_name(d.header().producer), "QEMU dump-guest-memory");
  ASSERT_EQ(d.notes().prstatus.size(), 2u);
  EXPECT_EQ(d.notes().prstatus[0].pid, 100);
  EXPECT_EQ(d.notes().prstatus[0].reg(Reg::rip), 0xffffffff81000010u);
  EXPECT_EQ(d.notes().prstatus[0].reg(Reg::rsp), 0xffffc90000001000u);
  ASSERT_EQ(d.notes().qemu_cpus.size(), 2u);
  EXPECT_EQ(d.notes().qemu_cpus[1].cr[3], 0x10000u);
  EXPECT_EQ(d.notes().vmcoreinfo, "OSRELEASE=6.1.0-synthetic\nPAGESIZE=4096\n");
  EXPECT_EQ(d.physical_memory_size(), 6 * kPage);
  Bytes buf(100);
  ASSERT_TRUE(d.read_physical(6 * kPage + 4090, buf));
  EXPECT_EQ(buf, mem.range(6 * kPage + 4090, 100));
  auto hole = d.read_physical(3 * kPage, buf);
  ASSERT_FALSE(hole);
  EXPECT_EQ(hole.error().kind, ErrorKind::not_in_dump);
}

// /proc/vmcore as kexec-tools lays it out: the kernel image is a segment of its own (at its
// virtual address) and again part of the RAM segment around it.
TEST(ElfCore, OverlappingSegmentsReadFromWhicheverHoldsTheAddress) {
  PhysicalImage mem = patterned_memory(16);
  Bytes core = build_elf_core(mem, {{kPage, 15 * kPage, 0xffff888000001000}, {4 * kPage, 2 * kPage, 0xffffffff81000000}},
                              standard_notes());
  auto dump = open_bytes(core);
  ASSERT_TRUE(dump) << dump.error().message;
  const Dump& d = **dump;
  Bytes buf(2 * kPage);
  // Past the end of the image segment, which starts nearer: the RAM segment holds it.
  ASSERT_TRUE(d.read_physical(5 * kPage + 100, buf)) << "crossing the end of the inner segment";
  EXPECT_EQ(buf, mem.range(5 * kPage + 100, 2 * kPage));
  ASSERT_TRUE(d.read_physical(10 * kPage, buf));
  EXPECT_EQ(buf, mem.range(10 * kPage, 2 * kPage));
  // Each physical byte counts once.
  EXPECT_EQ(d.physical_memory_size(), 15 * kPage);
  ASSERT_EQ(d.physical_ranges().size(), 1u);
  EXPECT_EQ(d.physical_ranges()[0].start, kPage);
  EXPECT_FALSE(d.read_physical(0, buf));
}

TEST(ElfCore, TruncatedFileYieldsWhatIsPresentAndSaysWhatIsNot) {
  PhysicalImage mem = patterned_memory(4);
  Bytes core = build_elf_core(mem, {{0, 4 * kPage}}, standard_notes());
  core.resize(core.size() - 2 * kPage);
  auto dump = open_bytes(core);
  ASSERT_TRUE(dump) << dump.error().message;
  Bytes buf(16);
  EXPECT_TRUE((*dump)->read_physical(kPage, buf));
  auto st = (*dump)->read_physical(3 * kPage, buf);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::not_in_dump);
  EXPECT_NE(st.error().message.find("truncated"), std::string::npos) << st.error().message;
}

TEST(ElfCore, MalformedHeadersAreErrorsWithOffsets) {
  Bytes core = build_elf_core(patterned_memory(1), {{0, kPage}}, standard_notes());
  Bytes bad_class = core;
  bad_class[EI_CLASS] = ELFCLASS32;
  auto a = open_bytes(bad_class);
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("offset 0x4"), std::string::npos) << a.error().message;
  Bytes many = core;
  uint16_t phnum = 60000;
  std::memcpy(many.data() + offsetof(Elf64_Ehdr, e_phnum), &phnum, 2);
  EXPECT_FALSE(open_bytes(many));
  Bytes tiny(core.begin(), core.begin() + 20);
  auto t = open_bytes(tiny);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("truncated"), std::string::npos);
  auto junk = open_bytes(Bytes(64, 0x41));
  ASSERT_FALSE(junk);
  EXPECT_NE(junk.error().message.find("not a crash dump"), std::string::npos);
}

TEST(ElfCore, NoteRunningPastItsSegmentIsAProblemNotACrash) {
  Bytes notes = standard_notes();
  uint32_t huge = 0x7fffffff;
  std::memcpy(notes.data() + 4, &huge, 4);  // first note's n_descsz
  auto dump = open_bytes(build_elf_core(patterned_memory(1), {{0, kPage}}, notes));
  ASSERT_TRUE(dump);
  EXPECT_FALSE((*dump)->notes().problems.empty());
}

class KdumpCodec : public ::testing::TestWithParam<PageCodec> {};

TEST_P(KdumpCodec, DecodesEveryPageAndReportsExcludedOnes) {
  PhysicalImage mem = patterned_memory(70);
  KdumpOptions o;
  o.codec = GetParam();
  o.excluded_pfns = {3, 64};
  o.hole_pfns = {10, 11};
  Bytes notes = build_notes({{100, 1, 2, 3}, {0, 1, 2, 3}}, "");  // VMCOREINFO from the sub header
  Bytes file = build_kdump(mem, 70, notes, "OSRELEASE=6.1.0-synthetic\n", o);
  for (bool flattened : {false, true}) {
    auto dump = open_bytes(flattened ? flatten(file, 5000) : file);
    ASSERT_TRUE(dump) << dump.error().message;
    const Dump& d = **dump;
    EXPECT_EQ(d.header().format, "kdump-compressed");
    EXPECT_EQ(d.header().container, flattened ? "makedumpfile flattened stream" : "file");
    EXPECT_EQ(d.header().dump_level, 31);
    EXPECT_EQ(d.header().crashing_cpu, 1);
    EXPECT_EQ(d.notes().prstatus.size(), 2u);
    EXPECT_EQ(d.notes().vmcoreinfo, "OSRELEASE=6.1.0-synthetic\n");
    EXPECT_EQ(d.physical_memory_size(), 68 * kPage);
    Bytes buf(2 * kPage);
    ASSERT_TRUE(d.read_physical(65 * kPage, buf));
    EXPECT_EQ(buf, mem.range(65 * kPage, 2 * kPage));
    ASSERT_TRUE(d.read_physical(0, std::span<uint8_t>(buf.data(), kPage)));
    EXPECT_EQ(Bytes(buf.begin(), buf.begin() + kPage), mem.page(0));
    // What a pass over memory reads, uncached: whole pages, parts of pages, and none past a missing one.
    Bytes once(3 * kPage - 100);
    ASSERT_TRUE(d.read_physical_once(4 * kPage + 50, once));
    EXPECT_EQ(once, mem.range(4 * kPage + 50, once.size()));
    auto through_excluded = d.read_physical_once(2 * kPage, {buf.data(), 2 * kPage});
    ASSERT_FALSE(through_excluded);
    EXPECT_NE(through_excluded.error().message.find("excluded"), std::string::npos);
    auto excluded = d.read_physical(64 * kPage + 8, {buf.data(), 8});
    ASSERT_FALSE(excluded);
    EXPECT_EQ(excluded.error().kind, ErrorKind::not_in_dump);
    EXPECT_NE(excluded.error().message.find("excluded"), std::string::npos);
    EXPECT_NE(excluded.error().message.find("dump level 31"), std::string::npos);
    auto hole = d.read_physical(10 * kPage, {buf.data(), 8});
    ASSERT_FALSE(hole);
    EXPECT_NE(hole.error().message.find("hole"), std::string::npos);
    auto beyond = d.read_physical(70 * kPage, {buf.data(), 8});
    ASSERT_FALSE(beyond);
    EXPECT_NE(beyond.error().message.find("beyond"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, KdumpCodec,
                         ::testing::Values(PageCodec::none, PageCodec::zlib, PageCodec::lzo, PageCodec::snappy,
                                           PageCodec::zstd),
                         [](const auto& p) { return std::string(codec_name(p.param)); });

TEST(Kdump, TruncatedFileStillServesEarlierPages) {
  PhysicalImage mem = patterned_memory(16);
  Bytes file = build_kdump(mem, 16, {}, "", {});
  // Cut into the page data: descriptors survive, later pages do not.
  auto full = open_bytes(file);
  ASSERT_TRUE(full);
  file.resize(file.size() - 3000);
  auto dump = open_bytes(file);
  ASSERT_TRUE(dump) << dump.error().message;
  Bytes buf(8);
  EXPECT_TRUE((*dump)->read_physical(0, buf));
  auto st = (*dump)->read_physical(15 * kPage, buf);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::not_in_dump);
}

TEST(Kdump, CorruptHeaderFieldsAreErrorsNamingTheField) {
  Bytes file = build_kdump(patterned_memory(4), 4, {}, "", {});
  Bytes bad = file;
  int32_t block = 12345;
  std::memcpy(bad.data() + offsetof(kdump_format::DiskDumpHeader, block_size), &block, 4);
  auto d = open_bytes(bad);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("block_size"), std::string::npos);
  bad = file;
  uint64_t pages = uint64_t{1} << 40;
  std::memcpy(bad.data() + kPage + offsetof(kdump_format::KdumpSubHeader, max_mapnr_64), &pages, 8);
  auto m = open_bytes(bad);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("max_mapnr"), std::string::npos);
}

TEST(Kdump, CorruptPageDataIsAnErrorNamingTheOffset) {
  PhysicalImage mem = patterned_memory(2);
  Bytes file = build_kdump(mem, 2, {}, "", {});
  auto good = open_bytes(file);
  ASSERT_TRUE(good);
  // Page data starts after header, sub header, one bitmap page and two descriptors.
  size_t data_at = 4 * kPage + 2 * sizeof(kdump_format::PageDesc);
  for (size_t i = data_at; i < data_at + 8; ++i) file[i] ^= 0xff;
  auto dump = open_bytes(file);
  ASSERT_TRUE(dump);
  Bytes buf(8);
  auto st = (*dump)->read_physical(0, buf);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("zlib"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("offset"), std::string::npos);
}

// Random corruption of every format: coroner may refuse a file, never crash on it.
TEST(HostileInput, RandomCorruptionNeverCrashes) {
  PhysicalImage mem = patterned_memory(8);
  Bytes notes = standard_notes();
  std::vector<Bytes> inputs = {build_elf_core(mem, {{0, 8 * kPage}}, notes),
                               build_kdump(mem, 8, notes, "OSRELEASE=x\n", {}),
                               flatten(build_kdump(mem, 8, notes, "OSRELEASE=x\n", {}), 4096)};
  std::mt19937_64 rng(20261121);
  int opened = 0;
  for (const Bytes& original : inputs) {
    for (int round = 0; round < 300; ++round) {
      Bytes b = original;
      size_t flips = 1 + rng() % 8;
      for (size_t i = 0; i < flips; ++i) {
        // Bias corruption towards headers, where the structure is.
        size_t at = (rng() % 2) ? rng() % std::min<size_t>(b.size(), 3 * kPage) : rng() % b.size();
        b[at] = static_cast<uint8_t>(rng());
      }
      if (rng() % 5 == 0) b.resize(rng() % b.size());
      auto dump = open_bytes(b);
      if (!dump) continue;
      ++opened;
      Bytes buf(3 * kPage);
      for (uint64_t pa : {uint64_t{0}, uint64_t{4090}, 5 * kPage, uint64_t{1} << 40}) (void)(*dump)->read_physical(pa, buf);
    }
  }
  EXPECT_GT(opened, 0);  // some mutations leave a readable dump; those were exercised
}
