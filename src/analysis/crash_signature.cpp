#include "coroner/analysis/crash_signature.hpp"

#include <algorithm>
#include <cstdio>
#include <regex>

#include "coroner/rules/function_name.hpp"

namespace coroner::analysis {

using rules::function_base_name;

constexpr size_t kSignatureFrames = 3;

std::string crash_signature(const std::string& raw_cause, const std::vector<std::string>& functions,
                            const std::vector<std::string>& machinery) {
  // "stuck for 23s!" varies from dump to dump as much as an address does.
  static const std::regex kNumbers(R"(0x[0-9a-fA-F]+|\b[0-9a-fA-F]{8,}\b|\d+)");
  std::string s = std::regex_replace(raw_cause, kNumbers, "N");
  auto is_machinery = [&](const std::string& f) {
    std::string_view base = function_base_name(f);
    return std::any_of(machinery.begin(), machinery.end(), [&](const std::string& m) {
      return m.ends_with('*') ? base.starts_with(std::string_view(m).substr(0, m.size() - 1)) : base == m;
    });
  };
  // Past the last machinery frame that code of interest follows: a trap frame at the outer end of
  // the stack (a fault taken from user mode) is how the thread got in, not how it crashed.
  size_t from = 0;
  for (size_t i = 0; i + 1 < functions.size(); ++i) {
    if (is_machinery(functions[i]) && !is_machinery(functions[i + 1])) from = i + 1;
  }
  for (size_t i = from, n = 0; i < functions.size() && n < kSignatureFrames; ++i, ++n) {
    s += " | ";
    s += function_base_name(functions[i]);
  }
  uint64_t h = 0xcbf29ce484222325;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3;
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(h));
  return std::string(hash) + " " + s;
}

std::string report_signature(const console::CrashReport& report) {
  return crash_signature(report.title, console::guilty_frames(report, kSignatureFrames), {});
}

}  // namespace coroner::analysis
