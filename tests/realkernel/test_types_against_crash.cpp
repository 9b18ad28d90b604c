// The type system against crash on a real Debian kernel: layouts (`struct -o`) of every type in
// crash-types-commands.txt line by line, and values (`p`, `list`) read from the same dump.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/report/type_layout.hpp"
#include "../support/run_command.hpp"
#include "real_dumps.hpp"

using namespace coroner;

namespace {

using coroner::testing::dumps_dir;
using coroner::testing::slurp;

std::string oracle() { return dumps_dir() + "/sysrq-kaslr/oracle-types"; }
std::string vmlinux() { return dumps_dir() + "/kernel/vmlinux"; }
std::string dump() { return dumps_dir() + "/sysrq-kaslr/vmcore.kdump-zlib"; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    out.push_back(line);
  }
  return out;
}

// "  [176] } d_u;" -> {"176", "} d_u;" with its indentation after the offset column}
struct LayoutLine {
  std::string offset;  // empty when the line has none
  std::string text;    // from the column after the offset field, indentation included
};
LayoutLine split(const std::string& line) {
  static const std::regex kOffset(R"(^ *\[(\d+)\] (.*)$)");
  std::smatch m;
  if (std::regex_match(line, m, kOffset)) return {m[1], m[2]};
  auto first = line.find_first_not_of(' ');
  return {"", first == std::string::npos ? "" : line};
}

nlohmann::json run_json(const std::string& args) {
  auto r = coroner::testing::run_command(std::string(CORONER_BINARY) + " " + args);
  EXPECT_EQ(r.status, 0) << r.output;
  auto brace = r.output.find('{');
  if (brace == std::string::npos) return {};
  return nlohmann::json::parse(r.output.substr(brace));
}

// crash's `p` of a char array: `$1 = "swapper/0\000\000"` -> swapper/0
std::string crash_string(const std::string& file) {
  static const std::regex kString(R"re("((?:[^"\\]|\\.)*)")re");
  std::smatch m;
  std::string text = slurp(file);
  if (!std::regex_search(text, m, kString)) return "<no string in " + file + ">";
  std::string s = m[1];
  auto nul = s.find("\\000");
  return nul == std::string::npos ? s : s.substr(0, nul);
}

class Types : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto d = DebugInfo::open(vmlinux());
    ASSERT_TRUE(d) << d.error().message;
    debug_ = std::move(*d);
  }
  static std::unique_ptr<DebugInfo> debug_;
};
std::unique_ptr<DebugInfo> Types::debug_;

TEST_F(Types, LayoutsOfFortyKernelTypesMatchCrashLineByLine) {
  size_t compared = 0, extra_offsets = 0;
  for (const auto& entry : std::filesystem::directory_iterator(oracle())) {
    std::string file = entry.path().filename();
    if (file.rfind("layout_", 0) != 0) continue;
    std::string name = file.substr(7, file.size() - 7 - 4);
    auto crash = lines_of(slurp(entry.path()));
    ASSERT_FALSE(crash.empty());
    ASSERT_EQ(crash.back().rfind("SIZE: ", 0), 0u) << name << ": crash did not know it: " << crash[0];
    auto type = debug_->find_type("struct " + name);
    ASSERT_TRUE(type) << type.error().message;
    auto ours = lines_of(report::layout_text(*debug_, *type));
    ASSERT_EQ(ours.size(), crash.size()) << name << "\n" << report::layout_text(*debug_, *type);
    for (size_t i = 0; i < crash.size(); ++i) {
      LayoutLine c = split(crash[i]), o = split(ours[i]);
      if (c.offset.empty() && !o.offset.empty()) {
        // Members of a named anonymous aggregate (`union {...} d_u`): crash finds offsets by
        // member name from the outer struct and has none; ours are the real ones.
        ++extra_offsets;
        ASSERT_EQ(ours[i].size(), crash[i].size()) << name << " line " << i << ": " << ours[i];
        EXPECT_EQ(o.text, crash[i].substr(ours[i].size() - o.text.size())) << name << " line " << i;
        continue;
      }
      EXPECT_EQ(ours[i], crash[i]) << name << " line " << i;
    }
    ++compared;
  }
  EXPECT_GE(compared, 40u);
  RecordProperty("layouts_compared", static_cast<int>(compared));
  RecordProperty("offsets_crash_lacks", static_cast<int>(extra_offsets));
}

TEST_F(Types, FindsTypesBySpellingAsCrashUsersWriteThem) {
  for (const char* spelling : {"struct dentry", "dentry", "struct page *", "unsigned long", "long unsigned int",
                               "atomic_t", "spinlock_t", "char [16]", "union {...}"}) {
    auto t = debug_->find_type(spelling);
    if (std::string(spelling) == "union {...}") {
      EXPECT_FALSE(t);
      continue;
    }
    ASSERT_TRUE(t) << spelling << ": " << t.error().message;
  }
  EXPECT_EQ(type_name(*debug_->find_type("struct page *")), "struct page *");
  EXPECT_EQ((*debug_->find_type("unsigned long"))->size, 8u);
  EXPECT_EQ((*debug_->find_type("char [16]"))->size, 16u);
  auto missing = debug_->find_type("struct no_such_type_anywhere");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no struct 'no_such_type_anywhere'"), std::string::npos);
}

TEST(TypesCli, PrintAgreesWithCrashsP) {
  auto j = run_json("print " + dump() + " -k " + vmlinux() + " --json init_task.comm init_uts_ns.name.release jiffies");
  ASSERT_EQ(j["results"].size(), 3u) << j.dump(2);
  EXPECT_EQ(j["results"][0]["string"], crash_string(oracle() + "/p_comm.txt"));
  EXPECT_EQ(j["results"][1]["string"], crash_string(oracle() + "/p_release.txt"));
  std::smatch m;
  std::string jiffies = slurp(oracle() + "/p_jiffies.txt");
  ASSERT_TRUE(std::regex_search(jiffies, m, std::regex(R"(= (\d+)\s*$)"))) << jiffies;
  EXPECT_EQ(j["results"][2]["value"].get<uint64_t>(), std::stoull(m[1]));
}

// "\"init\\000\\000\"" (crash shows the whole array) -> "\"init\""
std::string up_to_nul(const std::string& quoted) {
  auto nul = quoted.find("\\000");
  return nul == std::string::npos ? quoted : quoted.substr(0, nul) + "\"";
}

// crash's `list ... -s a,b` output: an address line, then "  a = value," lines.
std::vector<std::pair<uint64_t, std::map<std::string, std::string>>> crash_list(const std::string& file) {
  std::vector<std::pair<uint64_t, std::map<std::string, std::string>>> out;
  for (const auto& line : lines_of(slurp(file))) {
    if (line.empty()) continue;
    if (line[0] != ' ') {
      out.push_back({std::stoull(line, nullptr, 16), {}});
      continue;
    }
    auto eq = line.find(" = ");
    if (out.empty() || eq == std::string::npos) continue;
    std::string key = line.substr(2, eq - 2), value = line.substr(eq + 3);
    if (!value.empty() && value.back() == ',') value.pop_back();
    out.back().second[key] = value;
  }
  return out;
}

TEST(TypesCli, WalkOfInitTaskTasksIsCrashsList) {
  auto crash = crash_list(oracle() + "/list_tasks.txt");
  ASSERT_GT(crash.size(), 10u);
  auto j = run_json("list " + dump() + " -k " + vmlinux() + " init_task -t task_struct -m tasks -s comm,pid --json");
  EXPECT_EQ(j["end"], "back at the start");
  ASSERT_EQ(j["entries"].size(), crash.size());
  for (size_t i = 0; i < crash.size(); ++i) {
    const auto& e = j["entries"][i];
    EXPECT_EQ(std::stoull(e["address"].get<std::string>(), nullptr, 16), crash[i].first) << i;
    EXPECT_EQ("\"" + e["comm"]["string"].get<std::string>() + "\"", up_to_nul(crash[i].second["comm"])) << i;
    EXPECT_EQ(std::to_string(e["pid"]["value"].get<int64_t>()), crash[i].second["pid"]) << i;
  }
}

TEST(TypesCli, WalkFromAListHeadIsCrashsListMinusH) {
  auto crash = crash_list(oracle() + "/list_modules.txt");
  ASSERT_GE(crash.size(), 1u);
  auto j = run_json("list " + dump() + " -k " + vmlinux() + " modules -t module -m list -s name --json");
  EXPECT_EQ(j["end"], "back at the start");
  ASSERT_EQ(j["entries"].size(), crash.size()) << j.dump(2);
  for (size_t i = 0; i < crash.size(); ++i) {
    EXPECT_EQ(std::stoull(j["entries"][i]["address"].get<std::string>(), nullptr, 16), crash[i].first);
    EXPECT_EQ("\"" + j["entries"][i]["name"]["string"].get<std::string>() + "\"", up_to_nul(crash[i].second["name"]));
  }
}

TEST(TypesCli, StructAtAnAddressShowsTheObject) {
  auto crash = crash_list(oracle() + "/list_tasks.txt");
  ASSERT_GT(crash.size(), 2u);
  char address[32];
  std::snprintf(address, sizeof address, "%lx", static_cast<unsigned long>(crash[1].first));
  auto j = run_json("struct " + dump() + " task_struct " + address + " -k " + vmlinux() + " --json --depth 2");
  EXPECT_EQ(j["schema"], "coroner.object");
  EXPECT_EQ(j["type"], "struct task_struct");
  bool saw_comm = false;
  for (const auto& m : j["members"]) {
    if (m["name"] == "comm") {
      saw_comm = true;
      EXPECT_EQ("\"" + m["string"].get<std::string>() + "\"", up_to_nul(crash[1].second["comm"]));
    }
    if (m["name"] == "pid") {
      EXPECT_EQ(std::to_string(m["value"].get<int64_t>()), crash[1].second["pid"]);
    }
  }
  EXPECT_TRUE(saw_comm);
}

}  // namespace
