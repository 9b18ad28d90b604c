// Differential tests on real Debian kernel dumps made by scripts/real-dumps.sh: coroner's answers
// against crash's (the oracle) on the same dump, and against each other across dump formats.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "coroner/os/linux/kernel_summary.hpp"
#include "coroner/os/linux/printk_log.hpp"
#include "coroner/report/info_report.hpp"
#include "../support/run_command.hpp"
#include "real_dumps.hpp"

using namespace coroner;
using namespace coroner::linux_kernel;

namespace {

using coroner::testing::dumps_dir;
using coroner::testing::slurp;

// kdump-kaslr is the path users have: kexec -p into a capture kernel, which saved /proc/vmcore raw
// (vmcore.elf) and through makedumpfile -c -d 31 (vmcore.kdump-zlib).
const std::vector<std::string> kScenarios = {"sysrq-nokaslr", "sysrq-kaslr", "sysrq-la57", "kdump-kaslr"};
std::vector<std::string> formats_of(const std::string& scenario) {
  if (scenario.starts_with("kdump")) return {"vmcore.elf", "vmcore.kdump-zlib"};
  return {"vmcore.elf", "vmcore.kdump-zlib", "vmcore.kdump-zlib.flat"};
}

struct Opened {
  std::unique_ptr<Kernel> kernel;
  KernelLog log;
  KernelSummary summary;
};

Opened open(const std::string& dump, bool with_vmlinux = true) {
  KernelOpenOptions o{dump, std::nullopt, std::nullopt};
  if (with_vmlinux) o.vmlinux_path = dumps_dir() + "/kernel/vmlinux";
  auto k = Kernel::open(o);
  if (!k) throw std::runtime_error(k.error().message);
  Opened r;
  r.kernel = std::move(*k);
  auto log = read_printk_log(*r.kernel);
  if (!log) throw std::runtime_error(log.error().message);
  r.log = std::move(*log);
  r.summary = summarize(*r.kernel, &r.log);
  return r;
}

// crash's `sys` output as KEY -> value.
std::map<std::string, std::string> crash_sys(const std::string& oracle) {
  std::map<std::string, std::string> out;
  std::istringstream in(slurp(oracle + "/sys.txt"));
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(": ");
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(0, key.find_first_not_of(' '));
    out[key] = line.substr(colon + 2);
  }
  return out;
}

// "ffffffff8bc01cb0 (T) panic ..." -> address
uint64_t crash_sym(const std::string& oracle, const std::string& name) {
  return std::stoull(slurp(oracle + "/sym_" + name + ".txt").substr(0, 16), nullptr, 16);
}

// "ffffffff8cc1aa40:  0000000000004000 0000000000000000   ascii" -> {address, values}
std::pair<uint64_t, std::vector<uint64_t>> crash_rd(const std::string& oracle, const std::string& name) {
  std::istringstream in(slurp(oracle + "/rd_" + name + ".txt"));
  std::string line;
  uint64_t start = 0;
  std::vector<uint64_t> values;
  std::regex row(R"(^([0-9a-f]{16}):\s+([0-9a-f]{16})(?:\s([0-9a-f]{16}))?)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    if (values.empty()) start = std::stoull(m[1], nullptr, 16);
    values.push_back(std::stoull(m[2], nullptr, 16));
    if (m[3].matched) values.push_back(std::stoull(m[3], nullptr, 16));
  }
  return {start, values};
}

std::string crash_style(std::string line) {  // crash prints '.' where coroner escapes \xNN
  static const std::regex esc(R"(\\x[0-9a-f]{2})");
  return std::regex_replace(line, esc, ".");
}

class RealDump : public ::testing::TestWithParam<std::string> {
 protected:
  std::string scenario_dir() const { return dumps_dir() + "/" + GetParam(); }
  std::string oracle() const { return scenario_dir() + "/oracle-kdump"; }
};

}  // namespace

TEST_P(RealDump, SysAgreesWithCrash) {
  Opened o = open(scenario_dir() + "/vmcore.kdump-zlib");
  auto sys = crash_sys(oracle());
  ASSERT_FALSE(sys.empty()) << "no crash output in " << oracle();
  EXPECT_EQ(o.kernel->vmlinux_check().verdict, VmlinuxMatch::match);
  EXPECT_EQ(o.summary.release.value.value_or(""), sys["RELEASE"]);
  EXPECT_EQ(o.summary.version.value.value_or(""), sys["VERSION"]);
  EXPECT_EQ(std::to_string(o.summary.cpus.value.value_or(-1)), sys["CPUS"].substr(0, sys["CPUS"].find(' ')));
  if (sys["CPUS"].find("OFFLINE: ") != std::string::npos) {
    int offline = std::stoi(sys["CPUS"].substr(sys["CPUS"].find("OFFLINE: ") + 9));
    EXPECT_EQ(o.summary.cpus.value.value_or(0) - o.summary.online_cpus.value.value_or(0), offline);
  }
  // crash prints MEMORY in units of 2^20 bytes with one decimal.
  double crash_mb = std::stod(sys["MEMORY"]);
  ASSERT_TRUE(o.summary.kernel_memory_bytes.value);
  EXPECT_NEAR(double(*o.summary.kernel_memory_bytes.value) / (1 << 20), crash_mb, 0.05);
  EXPECT_EQ("\"" + o.summary.panic_message.value.value_or("") + "\"", sys["PANIC"]);
}

TEST_P(RealDump, LogIsCrashsLogLineForLine) {
  Opened o = open(scenario_dir() + "/vmcore.kdump-zlib");
  std::istringstream ours(report::log_text(o.log, false)), theirs(slurp(oracle() + "/log.txt"));
  std::string a, b;
  size_t lines = 0;
  while (std::getline(theirs, b)) {
    ASSERT_TRUE(std::getline(ours, a)) << "coroner's log ends before crash's, at line " << lines;
    ASSERT_EQ(crash_style(a), b) << "line " << lines;
    ++lines;
  }
  EXPECT_FALSE(std::getline(ours, a)) << "coroner's log has more lines than crash's";
  EXPECT_GT(lines, 500u);
  EXPECT_TRUE(o.log.problems.empty());
}

TEST_P(RealDump, SymbolsAndMemoryReadsAgreeWithCrash) {
  Opened o = open(scenario_dir() + "/vmcore.kdump-zlib");
  for (const char* name : {"panic", "linux_banner", "init_task"}) {
    EXPECT_EQ(o.kernel->symbol_address(name).value_or(0), crash_sym(oracle(), name)) << name;
  }
  for (const char* name : {"jiffies", "init_task"}) {
    auto [start, values] = crash_rd(oracle(), name);
    ASSERT_FALSE(values.empty()) << name;
    EXPECT_EQ(start, *o.kernel->symbol_address(name));
    for (size_t i = 0; i < values.size(); ++i) {
      EXPECT_EQ(o.kernel->read_u64(start + 8 * i).value_or(~0ull), values[i]) << name << " word " << i;
    }
  }
}

TEST_P(RealDump, KaslrOffsetIsWhatTheKernelPrinted) {
  Opened o = open(scenario_dir() + "/vmcore.kdump-zlib");
  std::string printed;
  for (const auto& r : o.log.records) {
    if (r.text.starts_with("Kernel Offset: ")) printed = r.text;
  }
  uint64_t offset = o.kernel->layout().kaslr_offset;
  if (GetParam().starts_with("kdump")) {
    // panic() jumped to the capture kernel before printing the offset: crash's `sym panic` against
    // the vmlinux's link address says it instead.
    EXPECT_TRUE(printed.empty());
    const Symbol* panic = o.kernel->symbols()->find("panic");
    ASSERT_NE(panic, nullptr);
    EXPECT_EQ(crash_sym(oracle(), "panic") - panic->address, offset);
    EXPECT_NE(offset, 0u);
    return;
  }
  ASSERT_FALSE(printed.empty());
  if (printed == "Kernel Offset: disabled") {
    EXPECT_EQ(offset, 0u);
  } else {
    EXPECT_EQ(std::stoull(printed.substr(15), nullptr, 16), offset) << printed;
  }
  EXPECT_EQ(o.kernel->layout().paging_levels, GetParam() == "sysrq-la57" ? 5 : 4);
}

TEST_P(RealDump, EveryFormatGivesTheSameAnswers) {
  Opened reference = open(scenario_dir() + "/vmcore.kdump-zlib");
  auto strip_dump = [](nlohmann::json j) {
    j.erase("dump");
    return j;
  };
  auto ref_info = strip_dump(report::info_json(*reference.kernel, reference.summary));
  for (const auto& format : formats_of(GetParam())) {
    Opened o = open(scenario_dir() + "/" + format);
    ASSERT_EQ(o.log.records.size(), reference.log.records.size()) << format;
    for (size_t i = 0; i < o.log.records.size(); ++i) {
      ASSERT_EQ(o.log.records[i].text, reference.log.records[i].text) << format << " record " << i;
      ASSERT_EQ(o.log.records[i].timestamp_ns, reference.log.records[i].timestamp_ns);
    }
    auto info = strip_dump(report::info_json(*o.kernel, o.summary));
    // The ELF format carries no dump time; everything else must agree.
    info.erase("crash_time");
    auto ref = ref_info;
    ref.erase("crash_time");
    EXPECT_EQ(info, ref) << format << "\n" << info.dump(2) << "\nvs\n" << ref.dump(2);
  }
}

TEST_P(RealDump, LogNeedsNoVmlinux) {
  Opened with = open(scenario_dir() + "/vmcore.elf");
  Opened without = open(scenario_dir() + "/vmcore.elf", false);
  EXPECT_EQ(report::log_text(without.log, true), report::log_text(with.log, true));
  EXPECT_EQ(without.summary.release.value, with.summary.release.value);
  EXPECT_EQ(without.summary.panic_message.value, with.summary.panic_message.value);
}

INSTANTIATE_TEST_SUITE_P(Debian, RealDump, ::testing::ValuesIn(kScenarios),
                         coroner::testing::scenario_test_name);

TEST(RealDumpElf, CrashOnTheElfDumpAgreesToo) {
  std::string dir = dumps_dir() + "/sysrq-nokaslr";
  Opened o = open(dir + "/vmcore.elf");
  auto sys = crash_sys(dir + "/oracle-elf");
  EXPECT_EQ(o.summary.release.value.value_or(""), sys["RELEASE"]);
  EXPECT_EQ("\"" + o.summary.panic_message.value.value_or("") + "\"", sys["PANIC"]);
  auto [start, values] = crash_rd(dir + "/oracle-elf", "init_task");
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(o.kernel->read_u64(start + 8 * i).value_or(~0ull), values[i]);
}

TEST(RealDumpCli, WrongVmlinuxOnARealDumpIsAMismatchNotGarbage) {
  std::string dump = dumps_dir() + "/sysrq-kaslr/vmcore.kdump-zlib";
  auto r = coroner::testing::run_command(std::string(CORONER_BINARY) + " info " + dump + " --vmlinux " + CORONER_FAKE_VMLINUX);
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("VMLINUX: MISMATCH (by build-id)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("RELEASE: 6.1.0-"), std::string::npos);  // VMCOREINFO answers still come
  EXPECT_EQ(r.output.find("6.1.0-fake"), std::string::npos);       // nothing from the wrong vmlinux
}

// A QEMU dump of a guest without the vmcoreinfo device: KASLR from the IDT, phys_base and the page
// tables from the CPU state, the vmlinux checked by linux_banner.
TEST(RealDumpWithoutVmcoreinfo, LayoutFromTheIdtAgreesWithCrashAndTheKernel) {
  std::string dir = dumps_dir() + "/novmcoreinfo-kaslr";
  KernelOpenOptions opt{dir + "/vmcore.kdump-zlib", dumps_dir() + "/kernel/vmlinux", std::nullopt};
  auto k = Kernel::open(opt);
  ASSERT_TRUE(k) << k.error().message;
  const Kernel& kernel = **k;
  EXPECT_TRUE(kernel.vmcoreinfo().empty());
  EXPECT_EQ(kernel.layout().kaslr_source, "IDT vector 0 vs asm_exc_divide_error");
  std::smatch m;
  std::string console = slurp(dir + "/console.log");
  ASSERT_TRUE(std::regex_search(console, m, std::regex("Kernel Offset: 0x([0-9a-f]+) from")));
  EXPECT_EQ(kernel.layout().kaslr_offset, std::stoull(m[1], nullptr, 16));
  EXPECT_EQ(kernel.vmlinux_check().verdict, VmlinuxMatch::match);
  EXPECT_EQ(kernel.vmlinux_check().method, "linux_banner");
  std::string oracle = dir + "/oracle-kdump";
  EXPECT_EQ(kernel.symbol_address("panic").value_or(0), crash_sym(oracle, "panic"));
  auto [start, values] = crash_rd(oracle, "init_task");
  ASSERT_FALSE(values.empty());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(kernel.read_u64(start + 8 * i).value_or(~0ull), values[i]);
  auto summary = summarize(kernel, nullptr);
  auto sys = crash_sys(oracle);
  EXPECT_EQ(summary.release.value.value_or(""), sys["RELEASE"]);
  EXPECT_EQ(summary.version.value.value_or(""), sys["VERSION"]);
  // Without VMCOREINFO the ring buffer's layout needs DWARF, which coroner does not read yet: it
  // must say so, naming what is missing.
  auto log = read_printk_log(kernel);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().message.find("VMCOREINFO lacks"), std::string::npos);
}

namespace {

// Where crash cannot open the dump (6.12), the kernel's own console is the oracle for `log`: every
// line it printed (with its timestamp) until CPUs print at once is a line of the ring buffer coroner reads.
// Lines below the console's loglevel were never printed, so the console is a subset.
class LogOnEveryKernel : public ::testing::TestWithParam<std::string> {};

TEST_P(LogOnEveryKernel, HoldsEveryLineTheConsolePrinted) {
  std::string dir = coroner::testing::flavour_dir(GetParam());
  if (dir.empty()) GTEST_SKIP() << "no dumps of linux-image-" << GetParam() << " were made (CORONER_KERNELS)";
  for (const char* scenario : {"sysrq-kaslr", "kdump-kaslr", "slub-uaf"}) {
    SCOPED_TRACE(scenario);
    KernelOpenOptions options{dir + "/" + scenario + "/vmcore.kdump-zlib", dir + "/kernel/vmlinux", std::nullopt};
    auto k = Kernel::open(options);
    ASSERT_TRUE(k) << k.error().message;
    auto log = read_printk_log(**k);
    ASSERT_TRUE(log) << log.error().message;
    // A record of several lines prints them under one timestamp, indented as dmesg does; the
    // console prints each with the timestamp.
    std::set<std::string> ours;
    std::istringstream text(report::log_text(*log, false));
    static const std::regex kPrefix(R"(^(\[ *\d+\.\d{6}\] ).*)");
    std::string prefix;
    for (std::string line; std::getline(text, line);) {
      while (!line.empty() && line.back() == ' ') line.pop_back();
      std::smatch m;
      if (std::regex_match(line, m, kPrefix)) {
        prefix = m[1].str();
      } else if (!prefix.empty() && line.size() > prefix.size() && line.compare(0, prefix.size(), std::string(prefix.size(), ' ')) == 0) {
        line = prefix + line.substr(prefix.size());
      }
      ours.insert(line);
    }
    std::istringstream console(slurp(dir + "/" + scenario + "/console.log"));
    static const std::regex kStamped(R"(^\[ *\d+\.\d{6}\] .*)");
    static const std::regex kCpusPrintAtOnce(
        R"(sysrq: Show backtrace of all active CPUs|NMI backtrace|sysrq: Trigger a crash|general protection fault|BUG: |kernel BUG at |Oops: |Kernel panic - not syncing)");
    size_t compared = 0, missing = 0;
    std::string first_missing;
    for (std::string line; std::getline(console, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!std::regex_match(line, kStamped)) continue;
      ++compared;
      // PREEMPT_RT's console can cut a line short and print it again whole: what it printed is
      // the start of one of ours.
      auto it = ours.lower_bound(line);
      bool cut_short = it != ours.end() && it->starts_with(line);
      if (!ours.contains(crash_style(line)) && !ours.contains(line) && !cut_short && !missing++) first_missing = line;
      // Once CPUs print at once (sysrq-l's NMI backtraces, the crash), PREEMPT_RT's consoles mix
      // one line's characters into another: the console is no longer a faithful copy. Its first
      // line is still compared.
      if (std::regex_search(line, kCpusPrintAtOnce)) break;
    }
    EXPECT_GT(compared, 300u);
    EXPECT_EQ(missing, 0u) << "first: " << first_missing;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryKernel, LogOnEveryKernel, ::testing::ValuesIn(coroner::testing::all_flavours()),
                         coroner::testing::flavour_test_name);

}  // namespace
