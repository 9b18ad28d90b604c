#pragma once
// The rule files shipped in rules/, built into the binary by CMake (the generated
// shipped_rules.cpp defines the array).
#include <cstddef>

namespace coroner::rules {

struct ShippedRuleFile {
  const char* name;  // relative to rules/
  const char* text;
};
extern const ShippedRuleFile kShippedRuleFiles[];
extern const size_t kShippedRuleFileCount;

}  // namespace coroner::rules
