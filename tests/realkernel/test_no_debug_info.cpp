// A dump is enough: with no vmlinux anywhere (the tests run with CORONER_DEBUG_PATH and
// DEBUGINFOD_URLS empty), coroner reads the kernel's symbols from the dump's kallsyms, its types
// from the dump's BTF and unwinds with the dump's ORC tables. On every real dump of every kernel the
// answers must be those -k gives: the same threads, the same frames (file:line aside), the same
// verdicts and objects, the same struct layouts.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "../support/json_output.hpp"
#include "../support/run_command.hpp"
#include "coroner/os/linux/kernel_btf.hpp"
#include "real_dumps.hpp"

using coroner::testing::json_in_output;
using coroner::testing::run_command;
namespace fs = std::filesystem;

namespace {

struct DumpCase {
  std::string flavour, scenario;
};

void PrintTo(const DumpCase& c, std::ostream* os) { *os << c.flavour << " " << c.scenario; }

// Every scenario of every kernel (scripts/real-dump-kernels.txt), read before any dump exists.
std::vector<DumpCase> every_dump() {
  std::vector<DumpCase> out;
  for (const std::string& flavour : coroner::testing::all_flavours()) {
    for (const auto& row : coroner::testing::dump_table("real-dump-scenarios.txt")) {
      if (coroner::testing::has_scenario(flavour, row[0])) out.push_back({flavour, row[0]});
    }
  }
  return out;
}

class NoDebugInfo : public ::testing::TestWithParam<DumpCase> {
 protected:
  void SetUp() override {
    dir_ = coroner::testing::flavour_dir(GetParam().flavour);
    if (dir_.empty()) GTEST_SKIP() << "no dumps of linux-image-" << GetParam().flavour << " were made (CORONER_KERNELS)";
    for (const char* file : {"vmcore.kdump-zlib", "vmcore.elf"}) {
      std::string path = dir_ + "/" + GetParam().scenario + "/" + file;
      if (fs::exists(path)) {
        dump_ = path;
        break;
      }
    }
    ASSERT_FALSE(dump_.empty()) << "no dump in " << dir_ << "/" << GetParam().scenario;
  }
  // The command on the dump (then `operands`) with the vmlinux, and without any debug file. A
  // JSON command's warnings (stderr) are left out, as they may follow the document.
  std::pair<coroner::testing::CommandResult, coroner::testing::CommandResult> both(const std::string& command,
                                                                                   const std::string& operands = "") {
    std::string run = std::string(CORONER_BINARY) + " " + command + " " + dump_ + operands;
    auto go = [&](const std::string& line) {
      return run_command(command.find("json") == std::string::npos ? line : "{ " + line + " 2>/dev/null; }");
    };
    return {go(run + " -k " + dir_ + "/kernel/vmlinux"), go(run)};
  }
  std::string dir_, dump_;
};

// Without the vmlinux, types come from the BTF in the dump, modules' included; what stops that read
// (a btf_modules node on a page makedumpfile excluded, in some captures) is said only on that path.
std::string without_btf_warnings(const std::string& output) {
  std::istringstream in(output);
  std::string out, line;
  while (std::getline(in, line)) {
    if (line.starts_with("coroner: warning: ") && line.find("BTF") != std::string::npos) continue;
    out += line + "\n";
  }
  return out;
}

std::vector<std::string> symbols_of(const nlohmann::json& backtrace) {
  std::vector<std::string> out;
  for (const auto& f : backtrace["frames"]) out.push_back(f["symbol"]);
  return out;
}

TEST_P(NoDebugInfo, AnswersAsWithTheVmlinux) {
  if (GetParam().scenario.starts_with("novmcoreinfo")) {
    // No VMCOREINFO, so nothing places the kallsyms tables: coroner says so, and what to give.
    auto [with_k, without] = both("ps");
    EXPECT_EQ(with_k.status, 0) << with_k.output;
    EXPECT_EQ(without.status, 1);
    EXPECT_NE(without.output.find("kallsyms in the dump: VMCOREINFO lacks SYMBOL(kallsyms_names"), std::string::npos) << without.output;
    EXPECT_NE(without.output.find("-k VMLINUX"), std::string::npos) << without.output;
    return;
  }
  auto [ps_k, ps] = both("ps");
  ASSERT_EQ(ps.status, 0) << ps.output;
  EXPECT_EQ(without_btf_warnings(ps.output), ps_k.output);

  auto [bt_k, bt] = both("bt --all --json");
  ASSERT_EQ(bt.status, 0) << bt.output;
  auto traces_k = json_in_output(bt_k.output)["backtraces"], traces = json_in_output(bt.output)["backtraces"];
  ASSERT_EQ(traces.size(), traces_k.size());
  // The same frames; where the vmlinux's DWARF CFI unwound code the ORC tables leave undefined
  // (__crash_kexec, where kdump saves the registers), the call site finds the same caller.
  for (size_t i = 0; i < traces.size(); ++i) EXPECT_EQ(symbols_of(traces[i]), symbols_of(traces_k[i])) << "thread " << i;

  auto [an_k, an] = both("analyze --format json");
  ASSERT_EQ(an.status, 0) << an.output;
  auto a_k = json_in_output(an_k.output), a = json_in_output(an.output);
  std::vector<std::string> ids_k, ids;
  for (const auto& v : a_k["verdicts"]) ids_k.push_back(v["id"]);
  for (const auto& v : a["verdicts"]) ids.push_back(v["id"]);
  EXPECT_EQ(ids, ids_k);
  EXPECT_EQ(a["signature"], a_k["signature"]);
  EXPECT_EQ(a["cause"], a_k["cause"]);
  // The console the guest printed, analyzed alone, names the crash as its dump does.
  auto log = run_command(std::string(CORONER_BINARY) + " analyze --format json --log " + dir_ + "/" + GetParam().scenario +
                         "/console.log 2>/dev/null");
  ASSERT_EQ(log.status, 0) << log.output;
  auto l = json_in_output(log.output);
  EXPECT_FALSE(a["title"].is_null());
  for (const char* key : {"title", "type", "guilty_frame", "signature"}) EXPECT_EQ(l[key], a[key]) << key;
  EXPECT_EQ(a["debug_info"]["types"].get<std::string>().rfind("the kernel's BTF in the dump (", 0), 0u) << a["debug_info"];
  EXPECT_EQ(a["debug_info"]["symbols"].get<std::string>().rfind("kallsyms in the dump (", 0), 0u) << a["debug_info"];
  // The objects the crashing thread used: the same addresses, caches, states and types.
  ASSERT_EQ(a["objects"].size(), a_k["objects"].size());
  std::vector<std::string> addresses;
  for (size_t i = 0; i < a["objects"].size(); ++i) {
    for (const char* key : {"address", "cache", "state", "place"}) {
      EXPECT_EQ(a["objects"][i][key], a_k["objects"][i][key]) << key << " of object " << i;
    }
    // A type -k names, BTF names too; a module's own type (the test module's struct coroner_obj,
    // when it was built with BTF) is known from the module's BTF, without its .ko.
    if (!a_k["objects"][i]["type"].get<std::string>().empty()) {
      EXPECT_EQ(a["objects"][i]["type"], a_k["objects"][i]["type"]) << "object " << i;
    }
    if (addresses.size() < 4) addresses.push_back(a["objects"][i]["address"]);
  }
  // whatis of those objects is the same, every field.
  std::string list;
  for (const auto& address : addresses) list += " " + address;
  if (list.empty()) return;
  auto [what_k, what] = both("whatis --json", list);
  ASSERT_EQ(what.status, 0) << what.output;
  EXPECT_EQ(json_in_output(what.output), json_in_output(what_k.output));
}

INSTANTIATE_TEST_SUITE_P(EveryKernel, NoDebugInfo, ::testing::ValuesIn(every_dump()),
                         [](const ::testing::TestParamInfo<DumpCase>& param) {
                           return coroner::testing::flavour_scenario_test_name(param.param.flavour, param.param.scenario);
                         });

// The layouts of the types the tests compare with crash (tests/realkernel/crash-types-commands.txt),
// from the dump's BTF and from the vmlinux's DWARF: every member at the same offset, of the same
// size, with the same bit field, nested structs and unions included.
std::vector<std::string> compared_types() {
  std::istringstream in(coroner::testing::slurp(std::string(CORONER_SOURCE_DIR) + "/tests/realkernel/crash-types-commands.txt"));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("layout_")) out.push_back(line.substr(line.rfind(' ') + 1));
  }
  return out;
}

void compare_layouts(coroner::DebugInfo& dwarf, coroner::DebugInfo& btf, const coroner::Type* d, const coroner::Type* b,
                     const std::string& path, int depth, size_t& members) {
  d = coroner::strip_typedefs(d);
  b = coroner::strip_typedefs(b);
  ASSERT_TRUE(d && b) << path;
  EXPECT_EQ(b->size, d->size) << path;
  if (d->kind != coroner::TypeKind::structure && d->kind != coroner::TypeKind::union_type) return;
  EXPECT_EQ(b->kind, d->kind) << path;
  const auto& dm = dwarf.members(d);
  const auto& bm = btf.members(b);
  ASSERT_EQ(bm.size(), dm.size()) << path;
  for (size_t i = 0; i < dm.size(); ++i) {
    std::string at = path + "." + (dm[i].name.empty() ? "(anonymous)" : dm[i].name);
    ++members;
    EXPECT_EQ(bm[i].name, dm[i].name) << at;
    EXPECT_EQ(bm[i].offset, dm[i].offset) << at;
    EXPECT_EQ(bm[i].bit_size, dm[i].bit_size) << at;
    if (dm[i].is_bit_field()) {
      EXPECT_EQ(bm[i].bit_offset, dm[i].bit_offset) << at;
    }
    if (depth < 4) compare_layouts(dwarf, btf, dm[i].type, bm[i].type, at, depth + 1, members);
  }
}

class BtfLayouts : public ::testing::TestWithParam<std::string> {};

TEST_P(BtfLayouts, EveryMemberSitsWhereTheDwarfPutsIt) {
  std::string dir = coroner::testing::flavour_dir(GetParam());
  if (dir.empty()) GTEST_SKIP() << "no dumps of linux-image-" << GetParam() << " were made (CORONER_KERNELS)";
  auto kernel = coroner::Kernel::open({dir + "/kdump-kaslr/vmcore.kdump-zlib", std::nullopt, std::nullopt});
  ASSERT_TRUE(kernel) << kernel.error().message;
  auto btf = coroner::linux_kernel::read_kernel_btf(**kernel);
  ASSERT_TRUE(btf) << btf.error().message;
  coroner::DebugInfo& dwarf = coroner::testing::debug_info_of(dir);
  size_t members = 0;
  for (const std::string& name : compared_types()) {
    auto d = dwarf.find_type("struct " + name);
    if (!d) d = dwarf.find_type(name);
    if (!d) continue;  // not in this kernel (crash's list is the reference kernel's)
    auto b = (*btf)->find_type(type_name(*d));
    ASSERT_TRUE(b) << b.error().message;
    compare_layouts(dwarf, **btf, *d, *b, name, 0, members);
  }
  EXPECT_GT(members, 2000u);
}

INSTANTIATE_TEST_SUITE_P(EveryKernel, BtfLayouts, ::testing::ValuesIn(coroner::testing::all_flavours()),
                         coroner::testing::flavour_test_name);

}  // namespace
