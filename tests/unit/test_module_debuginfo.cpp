// A module's DWARF relocated to load addresses (fixtures/module-object, a relocatable object like a
// .ko): names read right only once .rela.debug_* is applied, variables land where their sections
// were placed, lines are found at run-time addresses (addr2line on the object is the oracle), and
// a kernel's debug info reaches the module's types through a fallback.
#include <gtest/gtest.h>

#include <sstream>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/format.hpp"
#include "coroner/os/linux/module_debuginfo.hpp"
#include "../support/run_command.hpp"

using namespace coroner;

namespace {

const SectionPlacement kPlacement = {
    {".text.module_work", 0xffffffffc0a01000},
    {".data.module_counter", 0xffffffffc0a05040},
    {".data.module_state", 0xffffffffc0a05100},
};

std::unique_ptr<DebugInfo> open_module(const SectionPlacement& placement) {
  auto d = DebugInfo::open(CORONER_MODULE_OBJECT, 1, placement);
  EXPECT_TRUE(d) << (d ? "" : d.error().message);
  return d ? std::move(*d) : nullptr;
}

}  // namespace

TEST(ModuleDebugInfo, NamesAndMembersReadThroughRelocatedStrings) {
  auto debug = open_module(kPlacement);
  ASSERT_TRUE(debug);
  EXPECT_TRUE(debug->sections()->relocatable());
  auto t = debug->find_type("struct module_private");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_FALSE((*t)->incomplete);
  EXPECT_EQ((*t)->size, 40u);
  std::vector<std::string> names;
  for (const Member& m : debug->members(*t)) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"magic", "refcount", "next", "name"}));
  auto next = debug->find_member(*t, "next");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->offset, 16u);
  auto live = debug->find_enumerator("FIXTURE_LIVE");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->enumerator.value, 7u);
}

TEST(ModuleDebugInfo, VariablesSitWhereTheirSectionsWerePlaced) {
  auto debug = open_module(kPlacement);
  ASSERT_TRUE(debug);
  for (const auto& [name, section] : {std::pair{"module_counter", ".data.module_counter"},
                                      std::pair{"module_state", ".data.module_state"}}) {
    auto v = debug->find_variable(name);
    ASSERT_TRUE(v) << v.error().message;
    ASSERT_TRUE(v->static_address) << name;
    EXPECT_EQ(*v->static_address, kPlacement.at(section)) << name;
  }
  // Unplaced, each variable sits at its offset in its own section: 0.
  auto unplaced = open_module({});
  ASSERT_TRUE(unplaced);
  auto v = unplaced->find_variable("module_counter");
  ASSERT_TRUE(v && v->static_address);
  EXPECT_EQ(*v->static_address, 0u);
}

TEST(ModuleDebugInfo, LinesAtRunTimeAddressesAgreeWithAddr2line) {
  auto debug = open_module(kPlacement);
  ASSERT_TRUE(debug);
  for (uint64_t offset : {0ul, 4ul}) {
    auto oracle = coroner::testing::run_command("addr2line -e " + std::string(CORONER_MODULE_OBJECT) +
                                       " -j .text.module_work " + coroner::hex(offset));
    ASSERT_EQ(oracle.status, 0) << oracle.output;
    std::string expected = oracle.output.substr(oracle.output.rfind('/') + 1);
    while (!expected.empty() && (expected.back() == '\n' || expected.back() == ' ')) expected.pop_back();
    std::string line = debug->source_line(kPlacement.at(".text.module_work") + offset);
    EXPECT_EQ(line.substr(line.rfind('/') + 1), expected) << "offset " << offset;
  }
  EXPECT_EQ(debug->source_line(0x1000), "");  // nothing was placed there
}

// Built as the kernel builds (-fno-asynchronous-unwind-tables), the fixture has .debug_frame:
// readelf's interpretation of it is the oracle for the rules at each instruction.
TEST(ModuleDebugInfo, CallFrameRulesAtRunTimeAddressesAgreeWithReadelf) {
  auto debug = open_module(kPlacement);
  ASSERT_TRUE(debug);
  auto oracle = coroner::testing::run_command("readelf --debug-dump=frames-interp " +
                                              std::string(CORONER_MODULE_OBJECT));
  ASSERT_EQ(oracle.status, 0);
  // Rows "0000000000000000 rsp+8    c-8": LOC CFA ra (sections at 0 in the object).
  std::istringstream in(oracle.output);
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string loc, cfa, ra;
    if (!(row >> loc >> cfa) || loc.size() != 16 || !cfa.starts_with("rsp+")) continue;
    while (row >> ra) {}
    uint64_t address = kPlacement.at(".text.module_work") + std::stoull(loc, nullptr, 16);
    auto rule = debug->call_frame_rule(address);
    ASSERT_TRUE(rule.has_value()) << line;
    EXPECT_EQ(rule->cfa_register, kDwarfRsp) << line;
    EXPECT_EQ(rule->cfa_offset, std::stoll(cfa.substr(4))) << line;
    EXPECT_EQ("c" + std::to_string(rule->return_address_offset), ra) << line;
    ++rows;
  }
  EXPECT_GE(rows, 8);  // module_call pushes and pops
  EXPECT_FALSE(debug->call_frame_rule(0x1000).has_value());
}

TEST(ModuleDebugInfo, KernelDebugInfoReachesModuleTypesThroughAFallback) {
  auto kernel = DebugInfo::open(CORONER_FAKE_VMLINUX);
  ASSERT_TRUE(kernel) << kernel.error().message;
  EXPECT_FALSE((*kernel)->find_type("struct module_private"));
  auto module = open_module(kPlacement);
  ASSERT_TRUE(module);
  (*kernel)->add_fallback(module.get());
  auto t = (*kernel)->find_type("struct module_private *");
  ASSERT_TRUE(t) << t.error().message;
  const Type* pointee = (*t)->target;
  ASSERT_TRUE(pointee);
  // Members load from the module's DIEs even when asked through the kernel's debug info.
  EXPECT_EQ((*kernel)->members(pointee).size(), 4u);
  auto v = (*kernel)->find_variable("module_state");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->die.owner, module.get());
  EXPECT_EQ(v->static_address, kPlacement.at(".data.module_state"));
}

TEST(ModuleDebugInfo, ModuleNamesCompareWithDashesAsUnderscores) {
  EXPECT_EQ(linux_kernel::normalised_module_name("virtio-rng"), "virtio_rng");
  EXPECT_EQ(linux_kernel::normalised_module_name("qemu_fw_cfg"), "qemu_fw_cfg");
}
