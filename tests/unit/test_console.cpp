// Console logs: the prefixes a capture adds, the frames of every trace format, and every report
// format the kernel prints, named as syzbot names it (tests/console/expected.txt says what each
// report of tests/console/reports/ must be called).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "coroner/analysis/crash_signature.hpp"
#include "coroner/console/crash_reports.hpp"

namespace {

using namespace coroner::console;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

struct Expected {
  std::string file, title, type;
  bool corrupted = false;
  std::vector<std::string> more;
  int line = 0;
};

std::vector<Expected> expected() {
  std::vector<Expected> out;
  std::istringstream in(slurp(std::string(CORONER_SOURCE_DIR) + "/tests/console/expected.txt"));
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    for (size_t s = 0;;) {
      size_t e = line.find(" | ", s);
      cols.push_back(trimmed(line.substr(s, e == std::string::npos ? std::string::npos : e - s)));
      if (e == std::string::npos) break;
      s = e + 3;
    }
    if (cols.size() < 4) continue;
    out.push_back({cols[0], cols[1], cols[2], cols[3] == "yes", {cols.begin() + 4, cols.end()}, n});
  }
  return out;
}

ConsoleReading read_file(const std::string& file, const ReadOptions& options = {}) {
  return read_console(console_lines(slurp(std::string(CORONER_SOURCE_DIR) + "/tests/console/reports/" + file)), options);
}

TEST(ConsoleReports, EveryFormatIsNamedAsSyzbotNamesIt) {
  auto rows = expected();
  ASSERT_GE(rows.size(), 60u);
  for (const Expected& e : rows) {
    SCOPED_TRACE("tests/console/expected.txt:" + std::to_string(e.line) + " " + e.file);
    ReadOptions options;
    std::optional<size_t> others;
    std::vector<std::string> alts;
    for (const auto& m : e.more) {
      if (m.starts_with("not-crashes=")) options.not_crashes.push_back(m.substr(12));
      if (m.starts_with("others=")) others = std::stoul(m.substr(7));
      if (m.starts_with("alt=")) alts.push_back(m.substr(4));
    }
    ConsoleReading r = read_file(e.file, options);
    if (e.title == "-") {
      EXPECT_FALSE(r.crash.has_value()) << (r.crash ? r.reports[*r.crash].title : "");
      continue;
    }
    ASSERT_TRUE(r.crash.has_value());
    const CrashReport& c = r.reports[*r.crash];
    EXPECT_EQ(c.title, e.title);
    EXPECT_EQ(c.type, e.type);
    EXPECT_EQ(!c.corrupted.empty(), e.corrupted) << c.corrupted;
    for (const auto& alt : alts) EXPECT_NE(std::find(c.alt_titles.begin(), c.alt_titles.end(), alt), c.alt_titles.end()) << alt;
    if (others) {
      EXPECT_EQ(r.reports.size() - 1, *others);
    }
    if (e.title.find(" in ") != std::string::npos && !e.corrupted) {  // the title names the guilty frame
      EXPECT_TRUE(e.title.ends_with(" in " + c.guilty_frame) || e.title.find(" in " + c.guilty_frame) != std::string::npos) << c.guilty_frame;
    }
  }
}

TEST(ConsoleReports, EveryReportFileIsInTheManifest) {
  auto rows = expected();
  for (const auto& entry : std::filesystem::directory_iterator(std::string(CORONER_SOURCE_DIR) + "/tests/console/reports")) {
    std::string name = entry.path().filename().string();
    EXPECT_TRUE(std::any_of(rows.begin(), rows.end(), [&](const Expected& e) { return e.file == name; })) << name;
  }
}

TEST(ConsoleLines, EveryCapturePrefixIsTakenOff) {
  const char* text =
      "<4>[  110.420000][    C1] one\n"
      "[ 7.572344] [ T1234] two\r\n"
      "Dec  3 03:20:48 host kernel: [120444.102047] three\n"
      "Dec 03 03:20:48 host kernel: four\n"
      "2026-12-03T03:20:48.123456+00:00 host kernel: five\n"
      "[Thu Dec  3 03:20:48 2026]  six\n"
      "kern  :warn  : [   12.5] seven\n"
      "[Poison overwritten] eight\n";
  auto lines = console_lines(text);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0].text, "one");
  EXPECT_EQ(lines[0].cpu, 1u);
  EXPECT_EQ(lines[1].text, "two");
  EXPECT_EQ(lines[1].task, 1234u);
  EXPECT_EQ(lines[2].text, "three");
  EXPECT_EQ(lines[3].text, "four");
  EXPECT_EQ(lines[4].text, "five");
  EXPECT_EQ(lines[5].text, " six");  // a frame keeps its own leading space
  EXPECT_EQ(lines[6].text, "seven");
  EXPECT_EQ(lines[7].text, "[Poison overwritten] eight");  // the kernel's own brackets stay
  EXPECT_EQ(lines[7].number, 8u);
  EXPECT_FALSE(lines[0].same_context(lines[1]));
  EXPECT_TRUE(lines[0].same_context(lines[2]));  // a line with no context belongs anywhere
}

TEST(StackFrames, EveryTraceFormatGivesItsFunction) {
  struct Case {
    const char* line;
    const char* function;
    const char* module;
    bool reliable;
  };
  for (const Case& c : {Case{" coroner_test_init+0x1d4/0x1000 [coroner_test]", "coroner_test_init", "coroner_test", true},
                        Case{" ? __die+0x20/0x60", "__die", "", false},
                        Case{" [<ffffffff8183dcd7>] _raw_spin_lock+0x27/0x30", "_raw_spin_lock", "", true},
                        Case{" [<ffffffff8107c9b7>] ? warn_slowpath_common+0x87/0xc0", "warn_slowpath_common", "", false},
                        Case{" __dump_stack lib/dump_stack.c:88 [inline]", "__dump_stack", "", true},
                        Case{" ext4_write_begin+0x290/0x10e0 fs/ext4/inode.c:1189", "ext4_write_begin", "", true},
                        Case{" __handle_sysrq.cold+0x44/0x11c", "__handle_sysrq.cold", "", true},
                        Case{" brcmf_fweh_event_worker+0x8c/0x3a0 [brcmfmac] (P)", "brcmf_fweh_event_worker", "brcmfmac", true}}) {
    auto f = parse_frame(c.line);
    ASSERT_TRUE(f.has_value()) << c.line;
    EXPECT_EQ(f->function, c.function);
    EXPECT_EQ(f->module, c.module);
    EXPECT_EQ(f->reliable, c.reliable);
  }
  for (const char* not_a_frame : {" ? 0xffffffffc04d3000", " Possible unsafe locking scenario:", "RIP: 0033:0x47b7a0",
                                  " lock(&ei->i_data_sem/3);", ""}) {
    EXPECT_FALSE(parse_frame(not_a_frame).has_value()) << not_a_frame;
  }
  EXPECT_TRUE(is_machinery("__list_del_entry_valid.cold", kCommon));
  EXPECT_TRUE(is_machinery("schedule_timeout", kScheduler));
  EXPECT_FALSE(is_machinery("schedule_timeout", kCommon));
  EXPECT_FALSE(is_machinery("coroner_crash", kCommon | kScheduler | kAllocator | kPageAllocator | kInterrupt));
}

// One bug on two builds: 6.1 prints "general protection fault" and __list_del_entry_valid.cold,
// 6.12 "Oops: general protection fault" and __list_del_entry_valid_or_report, and their callers
// further out differ. The title and signature are one.
TEST(ConsoleReports, OneBugOnTwoBuildsHasOneSignature) {
  auto signature = [](const std::string& text) {
    auto r = read_console(console_lines(text));
    EXPECT_TRUE(r.crash.has_value());
    return r.crash ? coroner::analysis::report_signature(r.reports[*r.crash]) : "";
  };
  std::string built_61 =
      "list_del corruption, ffff8b8d031ea920->next is LIST_POISON1 (dead000000000100)\n"
      "------------[ cut here ]------------\n"
      "kernel BUG at lib/list_debug.c:53!\n"
      "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n"
      "CPU: 0 PID: 104 Comm: insmod Tainted: G           OE      6.1.0-57-amd64 #1  Debian 6.1.192-3\n"
      "RIP: 0010:__list_del_entry_valid.cold+0x5c/0x6f\n"
      "Call Trace:\n <TASK>\n coroner_double_list_del+0x12/0x40 [coroner_test]\n"
      " coroner_test_init+0x1d4/0x1000 [coroner_test]\n do_one_initcall+0x59/0x220\n do_init_module+0x4a/0x1f0\n"
      " __do_sys_finit_module+0xac/0x120\n </TASK>\n";
  std::string built_612 =
      "list_del corruption, ffff8ae718ee3d40->next is LIST_POISON1 (dead000000000100)\n"
      "------------[ cut here ]------------\n"
      "kernel BUG at lib/list_debug.c:56!\n"
      "Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n"
      "CPU: 1 UID: 0 PID: 151 Comm: insmod Tainted: G           OE      6.12.117+deb12-amd64 #1\n"
      "RIP: 0010:__list_del_entry_valid_or_report+0x7f/0xc0\n"
      "Call Trace:\n <TASK>\n ? die+0x36/0x90\n coroner_double_list_del.isra.0+0x1a/0x50 [coroner_test]\n"
      " coroner_test_init+0x221/0xff0 [coroner_test]\n do_one_initcall+0x5b/0x320\n do_init_module+0x60/0x270\n"
      " init_module_from_file+0x89/0xe0\n </TASK>\n";
  EXPECT_EQ(signature(built_61), signature(built_612));
  EXPECT_NE(signature(built_61).find("BUG: corrupted list in coroner_double_list_del | coroner_double_list_del | "
                                     "coroner_test_init | do_one_initcall"),
            std::string::npos)
      << signature(built_61);
}

// Hostile text: nothing crashes the reader, whatever the bytes.
TEST(ConsoleReports, HostileTextIsReadWithoutCrashing) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += static_cast<char>((i * 7919) % 256);
  text += "\nBUG: KASAN: \nCall Trace:\n ? \n [<\nRIP: 0010:\nRIP: 0010:[<ffff\nKernel panic - not syncing: \n";
  text += "WARNING: CPU: 0 PID: 1 at \nCPU: 99999999999999999999 PID: x Comm:\n at:\nkmemleak: \n";
  // Found by the fuzzer: a message that names a WARNING, then a BUG of no known kind.
  text += "ODEBUG: free active\nBUG: odd thing\nrefcount_t: x\nBUG kmalloc-8 (Not tainted): y\n";
  auto r = read_console(console_lines(text));
  for (const auto& report : r.reports) EXPECT_FALSE(report.title.empty());
}

}  // namespace
