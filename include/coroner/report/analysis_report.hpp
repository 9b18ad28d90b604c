#pragma once
// `coroner analyze`'s report: the dump, the panic and its cause, the crashing thread, the fault
// explained, the objects found, and the verdicts with their evidence, as text, JSON (schema
// coroner.analysis, docs/report.schema.json) or Markdown to paste into a bug tracker. The report
// reads one neutral summary, which Linux's analysis and the OS models' both produce.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "coroner/analysis/crash_analysis.hpp"
#include "coroner/rules/rule_engine.hpp"

namespace coroner::report {

struct ReportThread {
  int64_t pid = 0;
  std::string comm;
  char state = '?';
  std::string why;                     // other threads: why it is of interest
  std::vector<std::string> frames;     // the crashing thread: "func+0x1f/0x40  file:line"; others: function names
};

struct AnalysisSummary {
  std::string dump, os = "linux", release, panic, cause, signature;
  bool from_log = false;  // `dump` is a console log's path: analyze --log
  std::optional<console::CrashReport> crash;   // the crash's report in the log, when it has one
  std::vector<console::CrashReport> others;    // the log's other reports
  std::optional<ReportThread> crashing;
  std::optional<std::vector<std::string>> fault;  // the fault's findings, when something faulted
  const rules::Facts* facts = nullptr;
  std::vector<ReportThread> other_threads;
  std::vector<std::string> problems;
  std::string symbols_from, types_from;
};

struct AnalysisInput {
  AnalysisSummary summary;
  const std::vector<rules::Verdict>* verdicts = nullptr;
};

// The summary of an analysis, on any kernel.
// `from_log`: the analysis is analyze_log's, `dump` the log's path.
AnalysisSummary analysis_summary(const analysis::CrashAnalysis& a, const std::string& dump, bool from_log = false);

nlohmann::ordered_json analysis_json(const AnalysisInput& in);
std::string analysis_text(const AnalysisInput& in);
std::string analysis_markdown(const AnalysisInput& in);

}  // namespace coroner::report
