#pragma once
// `coroner analyze`'s report: the dump, the panic and its cause, the crashing thread, the fault
// explained, the objects found, and the verdicts with their evidence, as text, JSON (schema
// coroner.analysis, docs/report.schema.json) or Markdown to paste into a bug tracker.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "coroner/os/linux/crash_facts.hpp"

namespace coroner::report {

struct AnalysisInput {
  const linux_kernel::CrashAnalysis* analysis = nullptr;
  const std::vector<rules::Verdict>* verdicts = nullptr;
  std::string dump, release;
};

nlohmann::ordered_json analysis_json(const AnalysisInput& in);
std::string analysis_text(const AnalysisInput& in);
std::string analysis_markdown(const AnalysisInput& in);

}  // namespace coroner::report
