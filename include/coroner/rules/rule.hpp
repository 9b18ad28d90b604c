#pragma once
// Rules: data that recognises a known crash signature from the facts coroner gathered (panic and
// log text, the crashing stack, other threads, the fault, the objects found). Nothing in a rule is
// executed: a rule is a tree of conditions, each a regex or a comparison, read from YAML or JSON.
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/result.hpp"

namespace coroner::rules {

struct Condition {
  enum class Kind { all, any, none, panic, log, stack, thread, fault, object };
  Kind kind = Kind::all;
  std::vector<Condition> children;            // all / any / none
  std::string text;                           // the regex as written
  std::regex regex;                           // panic / log
  std::vector<std::string> function_texts;    // stack / thread: an ordered subsequence
  std::vector<std::regex> functions;
  bool other_process = false;                 // thread: in another process than the crashing one
  std::string address_kind, poison_pattern;   // fault
  std::optional<bool> freed;                  // object
  int line = 0, column = 0;                   // where it was written
};

struct Rule {
  std::string id, title, os = "linux", severity = "medium", explanation, fix, file;
  double confidence = 0.5;
  std::vector<std::string> references;
  Condition when;
};

// Every rule in a YAML or JSON text; errors name `name`:line:column and what is wrong.
Result<std::vector<Rule>> parse_rules(std::string_view text, const std::string& name);
Result<std::vector<Rule>> load_rule_file(const std::string& path);
// Every *.yaml, *.yml and *.json file in a directory, in name order.
Result<std::vector<Rule>> load_rule_directory(const std::string& dir);
// The rules shipped in rules/ (built into the binary).
const std::vector<Rule>& shipped_rules();

}  // namespace coroner::rules
