// Address translation, KASLR/layout discovery, the printk ring buffer and vmlinux checks on a
// synthetic kernel.
#include <gtest/gtest.h>

#include <cstring>

#include "coroner/arch/x86_64_paging.hpp"
#include "coroner/os/linux/kernel_summary.hpp"
#include "coroner/os/linux/printk_log.hpp"
#include "coroner/target/kernel.hpp"
#include "../support/dump_builder.hpp"
#include "../support/temp_file.hpp"

using namespace coroner;
using namespace coroner::testing;
using SK = SyntheticKernel;

namespace {

constexpr uint64_t kMemPages = 1024;  // 4 MiB

std::vector<std::pair<uint64_t, std::string>> numbered_records(int n) {
  std::vector<std::pair<uint64_t, std::string>> r;
  for (int i = 0; i < n; ++i) {
    r.push_back({uint64_t(i) * 1500000 + 7000, "record " + std::to_string(i) + (i % 3 ? "" : " with more text")});
  }
  return r;
}

Bytes kdump_of(SK& k, const KdumpOptions& o = {}) {
  std::string vi = k.vmcoreinfo();
  return build_kdump(k.memory(), kMemPages, build_notes({{1, 0, 0, 0}}, vi), vi, o);
}

std::unique_ptr<Kernel> open_kernel(const TempFile& f, const std::string& vmlinux = "") {
  KernelOpenOptions o{f.path(), std::nullopt, std::nullopt};
  if (!vmlinux.empty()) o.vmlinux_path = vmlinux;
  auto k = Kernel::open(o);
  EXPECT_TRUE(k) << (k ? "" : k.error().message);
  return k ? std::move(*k) : nullptr;
}

}  // namespace

TEST(Paging, CanonicalAddresses) {
  EXPECT_TRUE(x86_64::is_canonical(0xffff888000000000ull, 4));
  EXPECT_FALSE(x86_64::is_canonical(0xff11000000000000ull, 4));
  EXPECT_TRUE(x86_64::is_canonical(0xff11000000000000ull, 5));
  EXPECT_FALSE(x86_64::is_canonical(0x6b6b6b6b6b6b6b6bull, 5));
}

class PagingLevels : public ::testing::TestWithParam<int> {};

TEST_P(PagingLevels, TranslatesFourKTwoMAndOneGPages) {
  SK k(GetParam());
  k.memory().write_string(SK::kDataPa + 0x1234, "kernel data");
  k.memory().write_string(SK::kRingPa + 0x2010, "ring data");
  TempFile f(kdump_of(k));
  auto kernel = open_kernel(f);
  ASSERT_TRUE(kernel);
  EXPECT_EQ(kernel->layout().paging_levels, GetParam());
  EXPECT_EQ(kernel->layout().page_table_root, 0x10000u);
  EXPECT_EQ(kernel->translate(SK::kDataVa + 0x1234).value_or(0), SK::kDataPa + 0x1234);    // 2 MiB
  EXPECT_EQ(kernel->translate(SK::kDirectMap + 0x3000a).value_or(0), 0x3000au);           // 1 GiB
  EXPECT_EQ(kernel->translate(SK::kRingVa + 0x2010).value_or(0), SK::kRingPa + 0x2010);    // 4 KiB
  EXPECT_EQ(kernel->read_c_string(SK::kDataVa + 0x1234).value_or(""), "kernel data");
  EXPECT_EQ(kernel->read_c_string(SK::kRingVa + 0x2010).value_or(""), "ring data");
  auto unmapped = kernel->read_u64(SK::kRingVa + 0x10000);
  ASSERT_FALSE(unmapped);
  EXPECT_NE(unmapped.error().message.find("not mapped"), std::string::npos) << unmapped.error().message;
  auto poison = kernel->read_u64(0x6b6b6b6b6b6b6b6bull);
  ASSERT_FALSE(poison);
  EXPECT_NE(poison.error().message.find("not canonical"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(FourAndFive, PagingLevels, ::testing::Values(4, 5));

TEST(Paging, PageTablePageMissingFromTheDumpIsNotInDump) {
  SK k(4);
  KdumpOptions o;
  o.excluded_pfns = {SK::kRingPa / kPage + 2};
  TempFile f(kdump_of(k, o));
  auto kernel = open_kernel(f);
  ASSERT_TRUE(kernel);
  auto r = kernel->read_u64(SK::kRingVa + 2 * kPage);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::not_in_dump);
}

TEST(PrintkLog, ReadsEveryLiveRecordInOrderAcrossWrapArounds) {
  SK k(4);
  auto records = numbered_records(40);  // a 16-descriptor, 512-byte ring: most are overwritten
  k.write_log(records);
  TempFile f(kdump_of(k));
  auto kernel = open_kernel(f);
  ASSERT_TRUE(kernel);
  auto log = linux_kernel::read_printk_log(*kernel);
  ASSERT_TRUE(log) << log.error().message;
  EXPECT_TRUE(log->problems.empty());
  ASSERT_GE(log->records.size(), 5u);
  ASSERT_LE(log->records.size(), 16u);
  size_t first = records.size() - log->records.size();
  for (size_t i = 0; i < log->records.size(); ++i) {
    EXPECT_EQ(log->records[i].seq, first + i);
    EXPECT_EQ(log->records[i].text, records[first + i].second);
    EXPECT_EQ(log->records[i].timestamp_ns, records[first + i].first);
  }
  EXPECT_EQ(linux_kernel::format_log_line(log->records.back()), "[    0.058507] record 39 with more text");
  EXPECT_EQ(linux_kernel::caller_name(log->records.back().caller_id), "C1");
}

TEST(PrintkLog, EmbeddedNewlinesAndControlBytesAreFormattedSafely) {
  linux_kernel::LogRecord r{0, 1234567891, 1, "line one\nline two\x01"};
  EXPECT_EQ(linux_kernel::format_log_line(r), "[    1.234567] line one\n               line two\\x01");
}

TEST(PrintkLog, MissingVmcoreinfoKeysAreNamed) {
  SK k(4);
  k.write_log(numbered_records(3));
  std::string vi = k.vmcoreinfo();
  vi.erase(vi.find("SIZE(prb_desc)=24\n"), 18);
  TempFile f(build_kdump(k.memory(), kMemPages, build_notes({{1, 0, 0, 0}}, vi), vi, {}));
  auto kernel = open_kernel(f);
  ASSERT_TRUE(kernel);
  auto log = linux_kernel::read_printk_log(*kernel);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().message.find("SIZE(prb_desc)"), std::string::npos) << log.error().message;
}

// Found by the fuzzer: member offsets past the struct's own size read outside what was read.
TEST(PrintkLog, MemberOffsetsPastTheStructAreNotFollowedOutOfBounds) {
  SK k(4);
  k.write_log(numbered_records(3));
  std::string vi = k.vmcoreinfo();
  for (const char* key : {"OFFSET(prb_desc.state_var)=0\n", "OFFSET(printk_info.seq)=0\n"}) {
    std::string bad = key;
    bad.replace(bad.find("=0"), 2, "=4096");
    vi.replace(vi.find(key), std::strlen(key), bad);
  }
  TempFile f(build_kdump(k.memory(), kMemPages, build_notes({{1, 0, 0, 0}}, vi), vi, {}));
  auto kernel = open_kernel(f);
  ASSERT_TRUE(kernel);
  auto log = linux_kernel::read_printk_log(*kernel);
  // Nothing valid to read, and no read out of bounds (ASan watches).
  if (log) {
    EXPECT_TRUE(log->records.empty());
  }
}

TEST(PrintkLog, CorruptRingIsReportedNotFollowed) {
  SK k(4);
  k.write_log(numbered_records(5));
  k.memory().put<uint32_t>(SK::kDataPa + 0x200, 60);  // count_bits
  TempFile f(kdump_of(k));
  auto kernel = open_kernel(f);
  auto log = linux_kernel::read_printk_log(*kernel);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().message.find("corrupt"), std::string::npos);
}

TEST(PrintkLog, UnreadableTextPageKeepsTheOtherRecords) {
  SK k(4);
  k.write_log(numbered_records(6));
  KdumpOptions o;
  o.excluded_pfns = {SK::kRingPa / kPage + 2};  // the text page
  TempFile f(kdump_of(k, o));
  auto kernel = open_kernel(f);
  auto log = linux_kernel::read_printk_log(*kernel);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->records.size(), 6u);
  EXPECT_FALSE(log->problems.empty());
  EXPECT_EQ(log->records[0].text, "<text unreadable>");
}

TEST(PrintkLog, HeadTailCorruptionDoesNotLoopForever) {
  SK k(4);
  k.write_log(numbered_records(5));
  k.memory().put<uint64_t>(SK::kDataPa + 0x200 + 32, 1);  // tail far behind head
  TempFile f(kdump_of(k));
  auto kernel = open_kernel(f);
  auto log = linux_kernel::read_printk_log(*kernel);
  ASSERT_TRUE(log);
  EXPECT_FALSE(log->problems.empty());
}

TEST(KernelSummary, PanicMessageCauseAndCrashingCpuFromTheLog) {
  SK k(4);
  k.write_log({{1, "Linux version 6.1.0-synthetic (a@b) (gcc (X) 1.0, ld (Y) 2.0) #1 SMP Synthetic"},
               {2, "BUG: kernel NULL pointer dereference, address: 0000000000000008"},
               {3, "CPU: 1 PID: 42 Comm: worker Not tainted 6.1.0-synthetic #1"},
               {4, "Kernel panic - not syncing: Fatal exception"}},
              4, 10);
  TempFile f(kdump_of(k));
  auto kernel = open_kernel(f);
  auto log = linux_kernel::read_printk_log(*kernel);
  ASSERT_TRUE(log);
  auto s = linux_kernel::summarize(*kernel, &*log);
  EXPECT_EQ(s.release.value, "6.1.0-synthetic");
  EXPECT_EQ(s.version.value, "#1 SMP Synthetic");
  EXPECT_EQ(s.panic_message.value, "Kernel panic - not syncing: Fatal exception");
  EXPECT_EQ(s.panic_cause.value, "BUG: kernel NULL pointer dereference, address: 0000000000000008");
  EXPECT_EQ(s.crashing_cpu.value, 1);
}

TEST(KernelSummary, VersionFromBanner) {
  EXPECT_EQ(linux_kernel::version_from_banner(
                "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) "
                "12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)\n"),
            "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)");
  EXPECT_FALSE(linux_kernel::version_from_banner("Linux version x (unbalanced"));
}

TEST(Kernel, QemuCr3IsTheFallbackPageTableRoot) {
  SK k(4);
  k.memory().write_string(SK::kDataPa + 0x10, "found via CR3");
  // No VMCOREINFO at all; CR3 carries PCID bits and the PTI user bit, which must be masked.
  Bytes notes = build_notes({{1, 0, 0, 0}}, "", {0x10000 | 0x1000 | 0x5});
  TempFile f(build_elf_core(k.memory(), {{0, kMemPages * kPage}}, notes));
  auto kernel = open_kernel(f);
  ASSERT_TRUE(kernel);
  EXPECT_EQ(kernel->layout().page_table_source, "CR3 of CPU 0 (QEMU note)");
  EXPECT_EQ(kernel->read_c_string(SK::kDataVa + 0x10).value_or(""), "found via CR3");
}

TEST(Kernel, WrongVmlinuxIsReportedAsMismatchAndItsSymbolsAreNotUsed) {
  SK k(4);
  std::string vi = k.vmcoreinfo() + "BUILD-ID=00112233445566778899aabbccddeeff00112233\n";
  TempFile f(build_kdump(k.memory(), kMemPages, build_notes({{1, 0, 0, 0}}, vi), vi, {}));
  auto kernel = open_kernel(f, CORONER_FAKE_VMLINUX);
  ASSERT_TRUE(kernel);
  EXPECT_EQ(kernel->vmlinux_check().verdict, VmlinuxMatch::mismatch);
  EXPECT_EQ(kernel->vmlinux_check().method, "build-id");
  EXPECT_NE(kernel->vmlinux_check().detail.find("00112233445566778899aabbccddeeff00112233"), std::string::npos);
  EXPECT_EQ(kernel->symbols(), nullptr);
}

TEST(Kernel, WithoutBuildIdTheBannerDecides) {
  auto syms = ElfSymbols::open(CORONER_FAKE_VMLINUX);
  ASSERT_TRUE(syms);
  const Symbol* banner = (*syms)->find("linux_banner");
  ASSERT_NE(banner, nullptr);
  auto text = (*syms)->file_bytes(banner->address, banner->size - 1);  // without the NUL
  ASSERT_TRUE(text);
  // Put the fake vmlinux's banner where its symbol says, in the 2 MiB kernel data page.
  SK same(4);
  same.memory().write_string(SK::kDataPa + (banner->address - SK::kDataVa), std::string(*text));
  TempFile matching(kdump_of(same));
  auto kernel = open_kernel(matching, CORONER_FAKE_VMLINUX);
  ASSERT_TRUE(kernel);
  EXPECT_EQ(kernel->vmlinux_check().method, "linux_banner");
  EXPECT_EQ(kernel->vmlinux_check().verdict, VmlinuxMatch::match);
  ASSERT_NE(kernel->symbols(), nullptr);
  EXPECT_EQ(kernel->describe_address(*kernel->symbol_address("fake_do_work") + 2), "fake_do_work+0x2/0x5");

  SK other(4);
  other.memory().write_string(SK::kDataPa + (banner->address - SK::kDataVa), "Linux version 5.10.0-other ...");
  TempFile different(kdump_of(other));
  auto k2 = open_kernel(different, CORONER_FAKE_VMLINUX);
  ASSERT_TRUE(k2);
  EXPECT_EQ(k2->vmlinux_check().verdict, VmlinuxMatch::mismatch);
}
