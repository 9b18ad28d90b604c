// Rule files: parsing (errors name file, line and column), and conditions evaluated on facts.
#include <gtest/gtest.h>

#include "coroner/rules/rule_engine.hpp"

using namespace coroner::rules;

namespace {

Facts uaf_facts() {
  Facts f;
  f.panic = {"Kernel panic - not syncing: Fatal exception",
             "general protection fault, probably for non-canonical address 0x6b6b6b6b6b6b6b73"};
  f.log = {"coroner_test: crashing: uaf"};
  f.threads = {{102, 102, "insmod", {"panic", "asm_exc_general_protection", "coroner_crash", "coroner_test_init", "do_one_initcall"}},
               {103, 103, "coroner_holder/0", {"__schedule", "schedule", "coroner_holder", "kthread"}},
               {104, 102, "insmod-thread", {"__schedule", "proc_exit"}}};
  f.crashing = 0;
  f.fault = FaultFacts{"poison", "POISON_FREE", "movl 8(%rax), %esi", "struct coroner_obj.peer", 0x6b6b6b6b6b6b6b73};
  f.objects = {{0xffff888012345678, "coroner_obj", "loaded from", true}};
  return f;
}

bool matches(const std::string& when, const Facts& f) {
  auto rules = parse_rules("rules:\n  - id: t\n    title: t\n    when:\n" + when, "t.yaml");
  EXPECT_TRUE(rules.ok()) << rules.error().message;
  if (!rules) return false;
  std::vector<std::string> evidence;
  return holds(rules->front().when, f, evidence);
}

}  // namespace

TEST(Rules, ConditionsOnPanicLogStacksThreadsFaultAndObjects) {
  Facts f = uaf_facts();
  EXPECT_TRUE(matches("      panic: \"non-canonical address 0x6b6b\"\n", f));
  EXPECT_FALSE(matches("      panic: \"sysrq triggered crash\"\n", f));
  EXPECT_TRUE(matches("      log: \"crashing: uaf\"\n", f));
  EXPECT_TRUE(matches("      stack: [coroner_crash, \"do_one_init.*\"]\n", f));   // in order, gaps allowed
  EXPECT_FALSE(matches("      stack: [do_one_initcall, coroner_crash]\n", f));     // wrong order
  f.threads[0].functions[3] = "coroner_test_init.cold";  // a GCC clone is its function
  EXPECT_TRUE(matches("      stack: [coroner_crash, coroner_test_init]\n", f));
  EXPECT_TRUE(matches("      thread: {stack: [schedule, coroner_holder]}\n", f));
  EXPECT_TRUE(matches("      thread: {stack: [coroner_holder], other_process: true}\n", f));
  EXPECT_FALSE(matches("      thread: {stack: [proc_exit], other_process: true}\n", f));  // same tgid as insmod
  EXPECT_TRUE(matches("      fault: {address: poison, pattern: POISON_FREE}\n", f));
  EXPECT_FALSE(matches("      fault: {address: \"null\"}\n", f));
  EXPECT_TRUE(matches("      object: {freed: true}\n", f));
  EXPECT_TRUE(matches("      all:\n        - log: uaf\n        - none:\n            - fault: {address: \"null\"}\n", f));
  EXPECT_FALSE(matches("      any:\n        - log: nothing-like-this\n        - object: {freed: false}\n", f));
}

TEST(Rules, EvaluateRanksByConfidenceAndCarriesEvidence) {
  auto rules = parse_rules(R"(rules:
  - {id: low, title: low, confidence: 0.3, when: {log: uaf}}
  - {id: high, title: high, confidence: 0.9, when: [{fault: {address: poison}}, {object: {freed: true}}]}
  - {id: freebsd, title: other os, os: freebsd, confidence: 1, when: {log: uaf}}
)", "r.yaml");
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  auto verdicts = evaluate(*rules, uaf_facts());
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].rule->id, "high");
  EXPECT_EQ(verdicts[1].rule->id, "low");
  ASSERT_EQ(verdicts[0].evidence.size(), 2u);
  EXPECT_NE(verdicts[0].evidence[1].find("freed coroner_obj object 0xffff888012345678"), std::string::npos);
}

TEST(Rules, ErrorsNameFileLineAndColumnAndSayWhatIsWrong) {
  auto error = [](const std::string& text) {
    auto r = parse_rules(text, "bad.yaml");
    return r ? std::string("no error") : r.error().message;
  };
  EXPECT_EQ(error("rules:\n  - id: a\n    title: t\n    when:\n      stak: [x]\n"),
            "bad.yaml:5:7: unknown condition `stak` (expected all, any, none, panic, log, stack, thread, fault, object)");
  EXPECT_NE(error("rules:\n  - id: a\n    title: t\n    when: {log: \"(unclosed\"}\n").find("bad.yaml:4:17: bad regular expression"),
            std::string::npos);
  EXPECT_NE(error("rules:\n  - id: a\n    title: t\n    confidence: 7\n    when: {log: x}\n").find("bad.yaml:4:17: confidence"),
            std::string::npos);
  EXPECT_NE(error("rules:\n  - title: t\n    when: {log: x}\n").find("needs an `id`"), std::string::npos);
  EXPECT_NE(error("rules:\n  - id: a\n    title: t\n    colour: red\n    when: {log: x}\n").find("bad.yaml:4:5: unknown rule key `colour`"),
            std::string::npos);
  EXPECT_NE(error("rules: [\n").find("bad.yaml:"), std::string::npos);
  EXPECT_NE(error("{\"rules\": [{\"id\": \"j\", \"title\": \"json\", \"when\": {\"fault\": {\"address\": \"elsewhere\"}}}]}")
                .find("unknown address kind `elsewhere`"),
            std::string::npos);
}

TEST(Rules, TheShippedRulesAllParse) {
  const auto& rules = shipped_rules();
  EXPECT_GE(rules.size(), 9u);
  for (const auto& r : rules) {
    EXPECT_FALSE(r.explanation.empty()) << r.id;
    EXPECT_TRUE(r.file.starts_with("rules/")) << r.file;
  }
}
