// The faulting instruction explained, on the test module's use-after-free oops (crash=uaf): the
// kernel's own oops report is the oracle for the address, the register and the code bytes; the
// module's log names the freed object whose member was followed. And `dis` against objdump.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "coroner/os/linux/fault.hpp"
#include "coroner/target/expression.hpp"
#include "../support/run_command.hpp"
#include "real_dumps.hpp"

using namespace coroner;
using namespace coroner::linux_kernel;
using coroner::testing::dumps_dir;
using coroner::testing::slurp;

namespace {

std::optional<FaultExplanation> fault_of(coroner::testing::OpenedDump& o, std::optional<Slub>& slub) {
  auto tasks = o.view->tasks();
  EXPECT_TRUE(tasks.ok());
  const Task* t = (*tasks)->active_on(*(*tasks)->panic_cpu);
  EXPECT_NE(t, nullptr);
  auto bt = o.view->backtrace(*t);
  EXPECT_TRUE(bt.ok());
  static Backtrace keep;  // the explanation points at a frame of it
  keep = *bt;
  auto s = Slub::read(*o.objects);
  if (s) slub.emplace(std::move(*s));
  auto log = read_printk_log(*o.kernel);
  return explain_fault(*o.view, slub ? &*slub : nullptr, PoisonCatalog::shipped(), keep, log ? &*log : nullptr);
}

}  // namespace

TEST(Fault, TheUseAfterFreeIsExplainedBackToTheFreedObjectsMember) {
  DebugInfo& debug = coroner::testing::shared_debug_info();
  auto o = coroner::testing::open_real_dump("slub-uaf", "vmcore.kdump-zlib", debug);
  ASSERT_TRUE(o.view);
  o.view->load_module_debug({dumps_dir() + "/test-module"});  // struct coroner_obj
  std::optional<Slub> slub;
  auto fault = fault_of(o, slub);
  ASSERT_TRUE(fault.has_value());
  std::string whole = slurp(dumps_dir() + "/slub-uaf/console.log");
  // From the oops on: sysrq-t printed other tasks' registers and code before it.
  size_t oops = whole.find("general protection fault");
  ASSERT_NE(oops, std::string::npos);
  std::string log = whole.substr(oops);
  std::smatch m;
  // The kernel's report: "non-canonical address 0x6b6b6b6b6b6b6b73", "RAX: 6b6b...", "Code: ... <8b> 70 08 ..."
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(non-canonical address (0x[0-9a-f]+))")));
  ASSERT_TRUE(fault->address.has_value());
  EXPECT_EQ(*fault->address, std::stoull(m[1], nullptr, 16));
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(RAX: ([0-9a-f]{16}))")));
  EXPECT_EQ(*register_value(fault->regs, "rax"), std::stoull(m[1], nullptr, 16));
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(Code: [0-9a-f ]*<([0-9a-f]{2})> ((?:[0-9a-f]{2} ){2}))")));
  ASSERT_TRUE(fault->faulting.has_value());
  std::vector<uint8_t> kernel_bytes = {static_cast<uint8_t>(std::stoul(m[1], nullptr, 16))};
  std::istringstream rest(m[2].str());
  for (std::string b; rest >> b;) kernel_bytes.push_back(static_cast<uint8_t>(std::stoul(b, nullptr, 16)));
  ASSERT_GE(fault->faulting->bytes.size(), kernel_bytes.size());
  EXPECT_TRUE(std::equal(kernel_bytes.begin(), kernel_bytes.end(), fault->faulting->bytes.begin()));
  EXPECT_EQ(fault->faulting->text(), "movl 8(%rax), %esi");
  EXPECT_EQ(fault->address_meaning.kind, AddressKind::poison);
  EXPECT_EQ(fault->address_meaning.pattern, "POISON_FREE");
  EXPECT_TRUE(fault->address_meaning.text.starts_with("POISON_FREE + 0x8")) << fault->address_meaning.text;
  EXPECT_TRUE(fault->base_meaning.text.starts_with("POISON_FREE:")) << fault->base_meaning.text;
  // rax <- 0x38(rax) <- (%rsp): the member `peer` of freed[5], whose address was in a stack slot.
  ASSERT_TRUE(std::regex_search(whole, m, std::regex(R"(freed\[5\] = ([0-9a-f]+))")));
  uint64_t freed5 = std::stoull(m[1], nullptr, 16);
  ASSERT_EQ(fault->chain.size(), 2u) << ::testing::PrintToString(fault->findings);
  EXPECT_EQ(fault->chain[0].address, freed5 + 0x38);
  ASSERT_TRUE(fault->chain[0].address_meaning.slab.has_value());
  EXPECT_TRUE(fault->chain[0].address_meaning.slab->free);
  EXPECT_EQ(fault->chain[0].member, "struct coroner_obj.peer");
  EXPECT_EQ(fault->chain[1].value, freed5);
  EXPECT_EQ(fault->chain[1].address_meaning.kind, AddressKind::task_stack);
}

// The same use after free captured by a kdump service: oops_end() handed its registers to
// crash_kexec() and panic() never ran, so there are no pt_regs on the stack; the crashing CPU's
// registers in the dump are the oops's, and the explanation must be the same as from QEMU's dump.
class FaultOnKdump : public ::testing::TestWithParam<std::string> {};

TEST_P(FaultOnKdump, TheOopssOwnRegistersAreTheFault) {
  std::string dir = coroner::testing::flavour_dir(GetParam());
  if (dir.empty()) GTEST_SKIP() << "no dumps of linux-image-" << GetParam() << " were made (CORONER_KERNELS)";
  for (const char* file : {"vmcore.kdump-zlib", "vmcore.elf"}) {
    SCOPED_TRACE(file);
    auto o = coroner::testing::open_dump_in(dir, "kdump-uaf", file, coroner::testing::debug_info_of(dir));
    ASSERT_TRUE(o.view);
    o.view->load_module_debug({dir + "/test-module"});
    std::optional<Slub> slub;
    auto fault = fault_of(o, slub);
    ASSERT_TRUE(fault.has_value()) << "no fault explained";
    EXPECT_EQ(fault->frame->level, 0);
    EXPECT_NE(fault->regs_from.find("crash_kexec"), std::string::npos) << fault->regs_from;
    std::string log = slurp(dir + "/kdump-uaf/console.log");
    EXPECT_EQ(log.find("Kernel panic - not syncing"), std::string::npos) << "the oops went straight to kdump";
    std::smatch m;
    ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(non-canonical address (0x[0-9a-f]+))")));
    ASSERT_TRUE(fault->address.has_value());
    EXPECT_EQ(*fault->address, std::stoull(m[1], nullptr, 16));
    EXPECT_EQ(fault->address_meaning.kind, AddressKind::poison);
    EXPECT_EQ(fault->address_meaning.pattern, "POISON_FREE");
    ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(freed\[5\] = ([0-9a-f]+))")));
    ASSERT_FALSE(fault->chain.empty());
    EXPECT_EQ(fault->chain[0].address.value_or(0), std::stoull(m[1], nullptr, 16) + 0x38);
    EXPECT_EQ(fault->chain[0].member, "struct coroner_obj.peer");
  }
}

std::vector<std::string> flavours_with_kdump_oops() {
  std::vector<std::string> out;
  for (const auto& f : coroner::testing::all_flavours()) {
    if (coroner::testing::has_scenario(f, "kdump-uaf")) out.push_back(f);
  }
  return out;
}
INSTANTIATE_TEST_SUITE_P(EveryKernel, FaultOnKdump, ::testing::ValuesIn(flavours_with_kdump_oops()),
                         coroner::testing::flavour_test_name);

TEST(Fault, APanicWithoutAnOopsHasNothingToExplain) {
  auto o = coroner::testing::open_real_dump("sysrq-kaslr", "vmcore.kdump-zlib");
  ASSERT_TRUE(o.view);
  std::optional<Slub> slub;
  EXPECT_FALSE(fault_of(o, slub).has_value());
}

// Instruction boundaries against binutils' objdump on the vmlinux (KASLR taken off the addresses).
TEST(Dis, InstructionBoundariesAreObjdumps) {
  std::string dump = dumps_dir() + "/sysrq-kaslr/vmcore.kdump-zlib", vmlinux = dumps_dir() + "/kernel/vmlinux";
  auto ours = coroner::testing::run_command(std::string(CORONER_BINARY) + " dis " + dump + " -k " + vmlinux +
                                            " vfs_write -n 60 --json");
  ASSERT_EQ(ours.status, 0) << ours.output;
  auto j = nlohmann::json::parse(ours.output.substr(ours.output.find('{')));
  ASSERT_EQ(j["instructions"].size(), 60u);
  auto o = coroner::testing::open_real_dump("sysrq-kaslr", "vmcore.kdump-zlib");
  ASSERT_TRUE(o.kernel);
  uint64_t kaslr = o.kernel->layout().kaslr_offset;
  const Symbol* sym = o.kernel->symbols()->find("vfs_write");
  ASSERT_NE(sym, nullptr);
  char range[128];
  std::snprintf(range, sizeof range, " --start-address=0x%llx --stop-address=0x%llx",
                static_cast<unsigned long long>(sym->address), static_cast<unsigned long long>(sym->address + 400));
  auto objdump = coroner::testing::run_command("objdump -d --no-show-raw-insn" + std::string(range) + " " + vmlinux);
  ASSERT_EQ(objdump.status, 0);
  std::set<uint64_t> boundaries;
  std::istringstream in(objdump.output);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"(^ *([0-9a-f]+):\t)"))) boundaries.insert(std::stoull(m[1], nullptr, 16));
  }
  ASSERT_GT(boundaries.size(), 50u);
  for (const auto& insn : j["instructions"]) {
    uint64_t a = std::stoull(insn["address"].get<std::string>(), nullptr, 16) - kaslr;
    if (a >= sym->address + 400) break;
    EXPECT_TRUE(boundaries.contains(a)) << insn;
  }
  EXPECT_EQ(j["instructions"][0]["symbol"], "vfs_write+0x0/0x3f0");
}

TEST(FaultCli, JsonNamesTheMemberAndThePoison) {
  std::string args = " " + dumps_dir() + "/slub-uaf/vmcore.kdump-zlib -k " + dumps_dir() + "/kernel/vmlinux --modules " +
                     dumps_dir() + "/test-module";
  auto r = coroner::testing::run_command(std::string(CORONER_BINARY) + " fault" + args + " --json");
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(j["schema"], "coroner.fault");
  EXPECT_EQ(j["comm"], "insmod");
  EXPECT_EQ(j["address_kind"], "poison");
  ASSERT_EQ(j["chain"].size(), 2u);
  EXPECT_EQ(j["chain"][0]["member"], "struct coroner_obj.peer");
  auto text = coroner::testing::run_command(std::string(CORONER_BINARY) + " fault " + dumps_dir() +
                                            "/sysrq-kaslr/vmcore.kdump-zlib -k " + dumps_dir() + "/kernel/vmlinux");
  EXPECT_EQ(text.status, 0) << text.output;
  EXPECT_NE(text.output.find("nothing faulted"), std::string::npos) << text.output;
}
