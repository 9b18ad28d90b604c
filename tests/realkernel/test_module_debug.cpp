// Modules' .ko debug info (--modules) on real dumps: Debian's linux-image-*-dbg modules relocated to
// the load addresses in the dump. The kernel itself is the oracle: its in-memory ORC tables (which
// it relocated when it loaded the module) must equal the ones coroner relocates from the .ko, and a
// module variable read through the .ko's DWARF must hold what the kernel put there.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "coroner/format.hpp"
#include "coroner/os/linux/linux_view.hpp"
#include "coroner/target/expression.hpp"
#include "../support/run_command.hpp"
#include "real_dumps.hpp"

using namespace coroner;
using namespace coroner::linux_kernel;
using coroner::testing::dumps_dir;
using coroner::testing::run_command;
using coroner::testing::slurp;

namespace {

std::string release() {
  std::string r = slurp(dumps_dir() + "/kernel/release");
  while (!r.empty() && r.back() == '\n') r.pop_back();
  return r;
}

// Debian's layout: /usr/lib/debug/lib/modules/<release>/kernel/drivers/...
std::string modules_dir() { return dumps_dir() + "/kernel/debug/lib/modules/" + release(); }

// Each test's own debug info: the modules' types are added to it. It is the first base so that it
// is destroyed last, after the view that takes the modules back out of it.
struct OwnDebugInfo {
  std::unique_ptr<DebugInfo> debug;
};
struct Opened : OwnDebugInfo, coroner::testing::OpenedDump {};
Opened open_with_modules(const std::string& scenario, const std::string& file) {
  Opened o;
  auto d = DebugInfo::open(dumps_dir() + "/kernel/vmlinux");
  EXPECT_TRUE(d.ok()) << (d ? "" : d.error().message);
  if (!d) return o;
  o.debug = std::move(*d);
  static_cast<coroner::testing::OpenedDump&>(o) = coroner::testing::open_real_dump(scenario, file, *o.debug);
  if (o.view) o.view->load_module_debug({modules_dir()});
  return o;
}

using OrcRow = std::tuple<uint64_t, int, int, int, int, int, bool>;
std::vector<OrcRow> rows_of(const x86_64::OrcTable& t) {
  std::vector<OrcRow> out;
  for (size_t i = 0; i < t.ips.size(); ++i) {
    const auto& e = t.entries[i];
    out.emplace_back(t.ips[i], e.sp_offset, e.bp_offset, static_cast<int>(e.sp_reg), static_cast<int>(e.bp_reg),
                     static_cast<int>(e.type), e.end);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ModuleDebugOnDump : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    o_ = open_with_modules(GetParam(), "vmcore.kdump-zlib");
    ASSERT_TRUE(o_.view);
  }
  const LoadedModule& module(const std::string& name) {
    for (const auto& m : o_.view->modules().modules) {
      if (m.name == name) return m;
    }
    ADD_FAILURE() << "no module " << name;
    static LoadedModule none;
    return none;
  }
  Opened o_;
};

}  // namespace

TEST_P(ModuleDebugOnDump, EveryLoadedModuleFindsItsKo) {
  const auto& loaded = o_.view->modules().modules;
  ASSERT_EQ(loaded.size(), 7u);  // qemu_fw_cfg and the six virtio modules the guest loads
  EXPECT_TRUE(o_.view->module_debug().problems().empty()) << o_.view->module_debug().problems().front();
  for (const auto& m : loaded) {
    EXPECT_NE(o_.view->module_debug().find(m.name), nullptr) << m.name;
    EXPECT_TRUE(m.sections.contains(".text")) << m.name;
  }
}

TEST_P(ModuleDebugOnDump, AKoOfAnotherBuildIsRefusedAndSaysWhy) {
  // qemu_fw_cfg's .ko under virtio_blk's name: relocatable, but not what was loaded.
  auto dir = std::filesystem::temp_directory_path() / ("coroner-wrong-ko-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(modules_dir() + "/kernel/drivers/firmware/qemu_fw_cfg.ko", dir / "virtio_blk.ko",
                             std::filesystem::copy_options::overwrite_existing);
  auto set = ModuleDebugSet::load(*o_.kernel, o_.view->modules(), {dir.string()});
  std::filesystem::remove_all(dir);
  EXPECT_EQ(set.find("virtio_blk"), nullptr);
  ASSERT_EQ(set.problems().size(), 1u);
  EXPECT_NE(set.problems()[0].find("is another build (.rodata.str"), std::string::npos) << set.problems()[0];
}

TEST_P(ModuleDebugOnDump, OrcFromTheKoIsTheTableTheKernelRelocated) {
  std::vector<std::string> problems;
  x86_64::OrcLayout layout = orc_layout(*o_.objects);
  int compared = 0;
  for (const auto& m : o_.view->modules().modules) {
    const auto* debug = o_.view->module_debug().find(m.name);
    ASSERT_NE(debug, nullptr) << m.name;
    auto from_ko = module_orc_from_ko(*debug, m, layout);
    ASSERT_TRUE(from_ko.ok()) << from_ko.error().message;
    ObjectBytes ips = o_.objects->read_object(m.orc_ip, uint64_t{m.orc_count} * 4);
    ObjectBytes entries = o_.objects->read_object(m.orc, uint64_t{m.orc_count} * 6);
    ASSERT_TRUE(ips.missing.empty() && entries.missing.empty()) << m.name;
    auto in_memory = x86_64::make_orc_table(m.name, ips.data, m.orc_ip, entries.data, layout);
    ASSERT_EQ(from_ko->ips.size(), m.orc_count) << m.name;
    EXPECT_EQ(rows_of(*from_ko), rows_of(in_memory)) << m.name;
    ++compared;
  }
  EXPECT_EQ(compared, 7);
}

TEST_P(ModuleDebugOnDump, AModuleVariableHoldsWhatTheKernelPutThere) {
  // virtio_blk's `static struct virtio_driver virtio_blk`: its type exists only in the module's
  // DWARF, and the kernel set driver.owner to the module's struct module when it loaded it.
  auto owner = evaluate(*o_.objects, "virtio_blk.driver.owner");
  ASSERT_TRUE(owner.ok()) << owner.error().message;
  EXPECT_EQ(o_.objects->integer(*owner).value_or(0), module("virtio_blk").address);
  auto name = evaluate(*o_.objects, "virtio_blk.driver.name");
  ASSERT_TRUE(name.ok()) << name.error().message;
  ObjectBytes text = o_.objects->read_object(o_.objects->integer(*name).value_or(0), 11);
  EXPECT_EQ(std::string(text.data.begin(), text.data.end()), std::string("virtio_blk\0", 11));
  // A struct only the module defines.
  auto t = o_.debug->find_type("struct virtio_blk");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_FALSE((*t)->incomplete);
  EXPECT_TRUE(o_.debug->find_member(*t, "vdev").has_value());
}

TEST_P(ModuleDebugOnDump, ModuleLinesAtRunTimeAddressesAreAddr2linesOnTheKo) {
  const LoadedModule& m = module("virtio_blk");
  const auto* debug = o_.view->module_debug().find("virtio_blk");
  ASSERT_NE(debug, nullptr);
  int compared = 0;
  for (const auto& s : m.symbols) {
    if (!m.in_text(s.address) || compared >= 20) continue;
    // The section holding the symbol: the one placed last at or below it.
    const std::pair<const std::string, uint64_t>* section = nullptr;
    for (const auto& placed : m.sections) {
      if (placed.second <= s.address && (!section || placed.second > section->second)) section = &placed;
    }
    ASSERT_NE(section, nullptr) << s.name;
    auto oracle = run_command("addr2line -e " + debug->path + " -j " + section->first + " " +
                              coroner::hex(s.address - section->second));
    ASSERT_EQ(oracle.status, 0);
    std::string expected = oracle.output.substr(0, oracle.output.find('\n'));
    if (expected.find('?') != std::string::npos) continue;
    std::string ours = debug->debug->source_line(s.address);
    EXPECT_TRUE(expected.ends_with(ours) && !ours.empty()) << s.name << ": " << ours << " vs " << expected;
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

TEST_P(ModuleDebugOnDump, TheViewAsksTheKoForModuleCodeAndTheVmlinuxForTheRest) {
  const LoadedModule& m = module("virtio_blk");
  auto symbol = std::find_if(m.symbols.begin(), m.symbols.end(),
                             [](const ModuleSymbol& s) { return s.name == "virtblk_freeze"; });
  ASSERT_NE(symbol, m.symbols.end());
  std::string line = o_.view->source_line(symbol->address);
  EXPECT_TRUE(line.starts_with("drivers/block/virtio_blk.c:")) << line;
  EXPECT_EQ(line, o_.view->module_debug().find("virtio_blk")->debug->source_line(symbol->address));
  // Module code has CFI too: at a function's entry the CFA is rsp+8 and the return address at -8.
  auto rule = o_.view->call_frame_rule(symbol->address);
  ASSERT_TRUE(rule.has_value());
  EXPECT_EQ(rule->cfa_register, kDwarfRsp);
  EXPECT_EQ(rule->cfa_offset, 8);
  EXPECT_EQ(rule->return_address_offset, -8);
  auto panic = o_.kernel->symbol_address("panic");
  ASSERT_TRUE(panic.has_value());
  EXPECT_TRUE(o_.view->source_line(*panic).starts_with("kernel/panic.c:")) << o_.view->source_line(*panic);
}

INSTANTIATE_TEST_SUITE_P(Debian, ModuleDebugOnDump, ::testing::Values("sysrq-kaslr", "kdump-kaslr"),
                         coroner::testing::scenario_test_name);

TEST(ModuleDebugCli, PrintAndStructReachModuleTypesWithModules) {
  std::string dump = dumps_dir() + "/sysrq-kaslr/vmcore.kdump-zlib";
  std::string base = std::string(CORONER_BINARY) + " print " + dump + " -k " + dumps_dir() + "/kernel/vmlinux ";
  auto without = run_command(base + "virtio_blk.driver.name");
  EXPECT_NE(without.status, 0) << without.output;
  auto with = run_command(base + "--modules " + modules_dir() + " virtio_blk.driver.name");
  EXPECT_EQ(with.status, 0) << with.output;
  EXPECT_NE(with.output.find("\"virtio_blk\""), std::string::npos) << with.output;
  auto wrong = run_command(base + "--modules /nonexistent virtio_blk.driver.name");
  EXPECT_NE(wrong.status, 0);
  EXPECT_NE(wrong.output.find("/nonexistent"), std::string::npos) << wrong.output;
}
