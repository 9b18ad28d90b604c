#include "coroner/analysis/log_analysis.hpp"

#include "coroner/analysis/crash_signature.hpp"

namespace coroner::analysis {
namespace {

// The release and version, from the boot banner.
void find_release(const std::vector<console::ConsoleLine>& lines, linux_kernel::KernelSummary& s) {
  for (const auto& line : lines) {
    auto release = linux_kernel::release_from_banner(line.text);
    if (!release) continue;
    s.release = {*release, "kernel log banner"};
    if (auto v = linux_kernel::version_from_banner(line.text)) s.version = {*v, "kernel log banner"};
    return;
  }
}

rules::ThreadFacts crashing_thread(const console::CrashReport& r) {
  rules::ThreadFacts t;
  t.pid = t.tgid = static_cast<int>(r.pid.value_or(0));
  t.comm = r.comm;
  for (const auto& f : r.frames) t.functions.push_back(f.function);
  t.state = 'R';
  return t;
}

}  // namespace

CrashAnalysis analyze_log(std::string_view text, const console::ReadOptions& options) {
  CrashAnalysis a;
  a.symbols_from = "the log's own call traces";
  a.types_from = "none: a log holds no types";
  std::vector<console::ConsoleLine> lines = console::console_lines(text);
  find_release(lines, a.summary);
  linux_kernel::summarize_reports(console::read_console(lines, options), a.summary);
  a.facts.os = "linux";
  a.facts.text_only = true;
  if (a.summary.panic_message.value) a.facts.panic.push_back(*a.summary.panic_message.value);
  if (a.summary.panic_cause.value) a.facts.panic.push_back(*a.summary.panic_cause.value);
  a.facts.log.reserve(lines.size());
  for (auto& line : lines) a.facts.log.push_back(std::move(line.text));
  const auto& reading = a.summary.reports;
  if (reading.crash) {
    const console::CrashReport& crash = reading.reports[*reading.crash];
    a.facts.threads.push_back(crashing_thread(crash));
    a.facts.crashing = 0;
    a.signature = report_signature(crash);
  } else {
    a.problems.push_back("the log holds no crash report");
  }
  return a;
}

}  // namespace coroner::analysis
