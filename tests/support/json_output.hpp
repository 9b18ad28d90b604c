#pragma once
// The JSON document in a command's output: from its first '{' (warnings on stderr come first, as
// run_command merges them). A null document when there is none or it does not parse, so that the
// test's assertions on it fail and say so.
#include <nlohmann/json.hpp>
#include <string>

namespace coroner::testing {

inline nlohmann::json json_in_output(const std::string& output) {
  auto brace = output.find('{');
  if (brace == std::string::npos) return nlohmann::json{};
  return nlohmann::json::parse(output.substr(brace), nullptr, false);
}

}  // namespace coroner::testing
