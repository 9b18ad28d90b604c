// libFuzzer target: bytes as a console log pasted into `analyze --log`: the prefixes, the reports,
// the crash's title and signature, the facts and every report format. Seeds: tests/console/reports.
// It must never crash, whatever the text.
#include <cstdint>
#include <string_view>

#include "coroner/analysis/log_analysis.hpp"
#include "coroner/report/analysis_report.hpp"
#include "coroner/report/info_report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  analysis::CrashAnalysis a = analysis::analyze_log(std::string_view(reinterpret_cast<const char*>(data), size));
  std::vector<rules::Verdict> verdicts;
  report::AnalysisInput in{report::analysis_summary(a, "fuzz input", true), &verdicts};
  (void)report::to_json_text(report::analysis_json(in));  // as the CLI prints it: bad UTF-8 replaced
  (void)report::analysis_text(in);
  (void)report::analysis_markdown(in);
  return 0;
}
