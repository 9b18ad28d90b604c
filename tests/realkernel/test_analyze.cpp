// `coroner analyze` end to end on every real scenario: the right verdict first, with evidence, and
// every other shipped rule silent; the signature stable across a dump's formats; rules check/test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../support/run_command.hpp"
#include "real_dumps.hpp"

using coroner::testing::dumps_dir;
using coroner::testing::run_command;

namespace {

nlohmann::json analyze(const std::string& scenario, const std::string& file, const std::string& extra = "") {
  auto r = run_command(std::string(CORONER_BINARY) + " analyze " + dumps_dir() + "/" + scenario + "/" + file + " -k " +
                       dumps_dir() + "/kernel/vmlinux --format json " + extra);
  EXPECT_EQ(r.status, 0) << r.output;
  auto brace = r.output.find('{');
  return brace == std::string::npos ? nlohmann::json{} : nlohmann::json::parse(r.output.substr(brace), nullptr, false);
}

std::vector<std::string> verdict_ids(const nlohmann::json& j) {
  std::vector<std::string> ids;
  for (const auto& v : j["verdicts"]) ids.push_back(v["id"]);
  return ids;
}

}  // namespace

class Analyze : public ::testing::TestWithParam<std::string> {};

TEST_P(Analyze, TheSysrqCrashIsNamedAndNothingElse) {
  auto j = analyze(GetParam(), "vmcore.kdump-zlib");
  EXPECT_EQ(j["schema"], "coroner.analysis");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(verdict_ids(j), std::vector<std::string>{"linux.sysrq-crash"});
  ASSERT_FALSE(j["verdicts"].empty());
  bool stack_evidence = false;
  for (const auto& e : j["verdicts"][0]["evidence"]) stack_evidence |= e.get<std::string>().find("sysrq_handle_crash") != std::string::npos;
  EXPECT_TRUE(stack_evidence) << j["verdicts"][0].dump();
  EXPECT_TRUE(j["fault"].is_null());  // sysrq-c calls panic(): nothing faulted
  // The same crash read from another file of the same dump is the same crash.
  EXPECT_EQ(analyze(GetParam(), "vmcore.elf")["signature"], j["signature"]);
}

INSTANTIATE_TEST_SUITE_P(Debian, Analyze, ::testing::Values("sysrq-nokaslr", "sysrq-kaslr", "sysrq-la57", "kdump-kaslr"),
                         coroner::testing::scenario_test_name);

TEST(AnalyzeUseAfterFree, TheFreedObjectAndItsMemberAreTheEvidence) {
  auto j = analyze("slub-uaf", "vmcore.kdump-zlib", "--modules " + dumps_dir() + "/test-module");
  EXPECT_EQ(verdict_ids(j), std::vector<std::string>{"linux.use-after-free.poison-pointer"});
  ASSERT_FALSE(j["verdicts"].empty());
  std::string evidence = j["verdicts"][0]["evidence"].dump();
  EXPECT_NE(evidence.find("POISON_FREE"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("struct coroner_obj.peer"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("freed coroner_obj object"), std::string::npos) << evidence;
  EXPECT_EQ(j["crashing_thread"]["comm"], "insmod");
  EXPECT_NE(j["signature"].get<std::string>().find("coroner_crash | coroner_test_init"), std::string::npos);
  EXPECT_EQ(j["signature"].get<std::string>().find("0x"), std::string::npos);  // no addresses
  // Markdown for the bug tracker names the verdict first.
  auto md = run_command(std::string(CORONER_BINARY) + " analyze " + dumps_dir() + "/slub-uaf/vmcore.kdump-zlib -k " +
                        dumps_dir() + "/kernel/vmlinux --format markdown");
  EXPECT_EQ(md.status, 0);
  EXPECT_EQ(md.output.rfind("### coroner: Use after free", 0), 0u) << md.output;
}

// Every scenario's report validates against docs/report.schema.json (Debian's python3-jsonschema).
TEST(AnalyzeJson, EveryReportValidatesAgainstTheSchema) {
  for (const char* scenario : {"sysrq-kaslr", "kdump-kaslr", "slub-uaf"}) {
    std::string report = ::testing::TempDir() + "/report-" + scenario + ".json";
    auto r = run_command(std::string(CORONER_BINARY) + " analyze " + dumps_dir() + "/" + scenario +
                         "/vmcore.kdump-zlib -k " + dumps_dir() + "/kernel/vmlinux --format json -o " + report);
    ASSERT_EQ(r.status, 0) << r.output;
    auto check = run_command("python3 -c 'import json, sys, jsonschema; "
                             "jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' " +
                             std::string(CORONER_SCHEMA_DIR) + "/report.schema.json " + report);
    EXPECT_EQ(check.status, 0) << scenario << ": " << check.output;
  }
  // And the schema is not a rubber stamp: a report missing its verdicts fails it.
  auto broken = run_command("python3 -c 'import json, sys, jsonschema; "
                            "jsonschema.validate({\"schema\": \"coroner.analysis\", \"version\": 1}, "
                            "json.load(open(sys.argv[1])))' " + std::string(CORONER_SCHEMA_DIR) + "/report.schema.json");
  EXPECT_NE(broken.status, 0);
}

TEST(RulesCli, CheckAndTestSayWhatIsWrong) {
  std::string dir = ::testing::TempDir() + "/coroner-rules";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/mine.yaml") << "rules:\n  - id: mine.insmod\n    title: insmod crashed\n    confidence: 1\n"
                                       "    when:\n      stack: [coroner_crash, coroner_test_init]\n";
  std::ofstream(::testing::TempDir() + "/broken.yaml") << "rules:\n  - id: b\n    title: b\n    when: {stak: [x]}\n";
  auto ok = run_command(std::string(CORONER_BINARY) + " rules check " + dir + "/mine.yaml");
  EXPECT_EQ(ok.status, 0) << ok.output;
  auto broken = run_command(std::string(CORONER_BINARY) + " rules check " + ::testing::TempDir() + "/broken.yaml");
  EXPECT_NE(broken.status, 0);
  EXPECT_NE(broken.output.find("broken.yaml:4:12: unknown condition `stak`"), std::string::npos) << broken.output;
  std::string base = std::string(CORONER_BINARY) + " rules test mine.insmod " + dumps_dir() + "/%s/vmcore.kdump-zlib -k " +
                     dumps_dir() + "/kernel/vmlinux --rules " + dir + " --expect ";
  auto with = [&](const char* scenario, const char* expect) {
    std::string cmd = base;
    cmd.replace(cmd.find("%s"), 2, scenario);
    return run_command(cmd + expect);
  };
  EXPECT_EQ(with("slub-uaf", "match").status, 0);
  EXPECT_EQ(with("sysrq-kaslr", "no-match").status, 0);
  auto wrong = with("sysrq-kaslr", "match");
  EXPECT_NE(wrong.status, 0);
  EXPECT_NE(wrong.output.find("was expected to match"), std::string::npos) << wrong.output;
  // Users' rules rank with the shipped ones.
  auto j = analyze("slub-uaf", "vmcore.kdump-zlib", "--rules " + dir);
  EXPECT_EQ(verdict_ids(j).front(), "mine.insmod");
}
