#include "coroner/report/analysis_report.hpp"

#include "coroner/format.hpp"

namespace coroner::report {
namespace {

constexpr size_t kFramesShown = 12;

std::vector<std::string> top_frames(const linux_kernel::CrashAnalysis& a) {
  std::vector<std::string> out;
  if (!a.crashing_bt) return out;
  for (const auto& f : a.crashing_bt->frames) {
    if (out.size() >= kFramesShown) break;
    out.push_back(f.where.text(f.pc) + (f.line.empty() ? "" : "  " + f.line) + (f.reliable ? "" : "  (unreliable)"));
  }
  return out;
}

}  // namespace

nlohmann::ordered_json analysis_json(const AnalysisInput& in) {
  const auto& a = *in.analysis;
  nlohmann::ordered_json verdicts = nlohmann::ordered_json::array();
  for (const auto& v : *in.verdicts) {
    verdicts.push_back({{"id", v.rule->id}, {"title", v.rule->title}, {"severity", v.rule->severity},
                        {"confidence", v.rule->confidence}, {"explanation", v.rule->explanation}, {"fix", v.rule->fix},
                        {"references", v.rule->references}, {"rule_file", v.rule->file}, {"evidence", v.evidence}});
  }
  nlohmann::ordered_json objects = nlohmann::ordered_json::array();
  for (const auto& o : a.facts.objects) {
    objects.push_back({{"address", hex(o.address)}, {"cache", o.cache}, {"state", o.free ? "free" : "allocated"},
                       {"found_as", o.found_as}});
  }
  nlohmann::ordered_json crashing = nullptr;
  if (a.crashing) {
    crashing = {{"pid", a.crashing->pid}, {"comm", a.crashing->comm}, {"frames", top_frames(a)}};
  }
  nlohmann::ordered_json fault = nullptr;
  if (a.fault) fault = {{"findings", a.fault->findings}};
  return {{"schema", "coroner.analysis"}, {"version", 1}, {"dump", in.dump}, {"release", in.release},
          {"panic", a.summary.panic_message.value.value_or("")}, {"cause", a.summary.panic_cause.value.value_or("")},
          {"signature", linux_kernel::crash_signature(a)}, {"crashing_thread", crashing}, {"fault", fault},
          {"objects", objects}, {"verdicts", verdicts}, {"problems", a.problems}};
}

std::string analysis_text(const AnalysisInput& in) {
  const auto& a = *in.analysis;
  std::string out = "dump      " + in.dump + "\nrelease   " + in.release + "\npanic     " +
                    a.summary.panic_message.value.value_or("(none)") + "\ncause     " +
                    a.summary.panic_cause.value.value_or("(none)") + "\nsignature " + linux_kernel::crash_signature(a) + "\n";
  if (in.verdicts->empty()) {
    out += "\nverdict   no rule matched\n";
  } else {
    out += "\nverdicts (most confident first):\n";
    for (const auto& v : *in.verdicts) {
      char c[16];
      std::snprintf(c, sizeof c, "%.2f", v.rule->confidence);
      out += "  [" + std::string(c) + "] " + v.rule->title + "  (" + v.rule->id + ", " + v.rule->severity + ")\n";
      for (const auto& e : v.evidence) out += "      evidence: " + e + "\n";
    }
  }
  if (a.crashing) {
    out += "\ncrashing thread: pid " + std::to_string(a.crashing->pid) + " (" + a.crashing->comm + ")\n";
    for (const auto& f : top_frames(a)) out += "  " + f + "\n";
  }
  if (a.fault) {
    out += "\nthe fault:\n";
    for (const auto& f : a.fault->findings) out += "  " + f + "\n";
  }
  if (!in.verdicts->empty()) {
    const auto& best = *in.verdicts->front().rule;
    out += "\nwhy: " + best.explanation + "\nfix: " + best.fix + "\n";
  }
  for (const auto& p : a.problems) out += "(" + p + ")\n";
  return out;
}

std::string analysis_markdown(const AnalysisInput& in) {
  const auto& a = *in.analysis;
  std::string out = "### coroner: " + (in.verdicts->empty() ? std::string("no known signature") : in.verdicts->front().rule->title) + "\n\n";
  out += "| | |\n|---|---|\n| release | `" + in.release + "` |\n| panic | `" + a.summary.panic_message.value.value_or("") +
         "` |\n| cause | `" + a.summary.panic_cause.value.value_or("") + "` |\n| signature | `" +
         linux_kernel::crash_signature(a).substr(0, 16) + "` |\n\n";
  for (const auto& v : *in.verdicts) {
    char c[16];
    std::snprintf(c, sizeof c, "%.2f", v.rule->confidence);
    out += "**" + v.rule->title + "** (`" + v.rule->id + "`, confidence " + c + ")\n\n";
    for (const auto& e : v.evidence) out += "- " + e + "\n";
    out += "\n" + v.rule->explanation + "\n\n";
  }
  if (a.crashing) {
    out += "<details><summary>crashing thread: pid " + std::to_string(a.crashing->pid) + " (" + a.crashing->comm +
           ")</summary>\n\n```\n";
    for (const auto& f : top_frames(a)) out += f + "\n";
    out += "```\n</details>\n\n";
  }
  if (a.fault) {
    out += "**The fault**\n\n";
    for (const auto& f : a.fault->findings) out += "- " + f + "\n";
  }
  return out;
}

}  // namespace coroner::report
