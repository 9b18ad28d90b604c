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

std::string object_place(const rules::ObjectFacts& o) { return o.place == rules::ObjectPlace::stack ? "stack" : "slab"; }

std::string object_state(const rules::ObjectFacts& o) {
  if (o.place == rules::ObjectPlace::stack) return o.dead_frame ? "dead frame" : "live frame";
  return o.free ? "free" : "allocated";
}

// The objects worth a line in a report: freed ones and stack addresses; the JSON has them all.
bool worth_showing(const rules::ObjectFacts& o) { return o.place == rules::ObjectPlace::stack || o.free; }

std::string object_line(const linux_kernel::CrashAnalysis& a, const rules::ObjectFacts& o) {
  std::string s = object_state(o) + " " + (o.cache.empty() ? "" : o.cache + " ") + hex(o.address) + ": " + o.found_as;
  for (const auto& h : o.holders) {
    if (static_cast<int>(h.thread) == a.facts.crashing) continue;
    const auto& t = a.facts.threads[h.thread];
    s += "; held by pid " + std::to_string(t.pid) + " (" + t.comm + ") " + h.where;
  }
  return s;
}

std::string thread_line(const linux_kernel::ThreadOfInterest& t) {
  std::string s = "pid " + std::to_string(t.task->pid) + " (" + t.task->comm + ") [" + t.task->state + "] " + t.why + ":";
  for (size_t i = 0; i < t.functions.size(); ++i) s += (i ? " <- " : " ") + t.functions[i];
  return s;
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
    nlohmann::ordered_json holders = nlohmann::ordered_json::array();
    for (const auto& h : o.holders) {
      const auto& t = a.facts.threads[h.thread];
      holders.push_back({{"pid", t.pid}, {"comm", t.comm}, {"where", h.where}});
    }
    objects.push_back({{"address", hex(o.address)}, {"place", object_place(o)}, {"cache", o.cache}, {"type", o.type},
                       {"state", object_state(o)}, {"found_as", o.found_as}, {"holders", holders}});
  }
  nlohmann::ordered_json others = nlohmann::ordered_json::array();
  for (const auto& t : a.other_threads) {
    others.push_back({{"pid", t.task->pid}, {"comm", t.task->comm}, {"state", std::string(1, t.task->state)},
                      {"why", t.why}, {"functions", t.functions}});
  }
  nlohmann::ordered_json crashing = nullptr;
  if (a.crashing) {
    crashing = {{"pid", a.crashing->pid}, {"comm", a.crashing->comm}, {"frames", top_frames(a)}};
  }
  nlohmann::ordered_json fault = nullptr;
  if (a.fault) fault = {{"findings", a.fault->findings}};
  return {{"schema", "coroner.analysis"}, {"version", 2}, {"dump", in.dump}, {"release", in.release},
          {"panic", a.summary.panic_message.value.value_or("")}, {"cause", a.summary.panic_cause.value.value_or("")},
          {"signature", linux_kernel::crash_signature(a)}, {"crashing_thread", crashing}, {"fault", fault},
          {"objects", objects}, {"other_threads", others}, {"verdicts", verdicts}, {"problems", a.problems}};
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
  std::string objects;
  for (const auto& o : a.facts.objects) {
    if (worth_showing(o)) objects += "  " + object_line(a, o) + "\n";
  }
  if (!objects.empty()) out += "\nobjects the crashing thread used:\n" + objects;
  if (!a.other_threads.empty()) {
    out += "\nother threads of interest:\n";
    for (const auto& t : a.other_threads) out += "  " + thread_line(t) + "\n";
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
    out += "\n";
  }
  std::string objects;
  for (const auto& o : a.facts.objects) {
    if (worth_showing(o)) objects += "- " + object_line(a, o) + "\n";
  }
  if (!objects.empty()) out += "**Objects the crashing thread used**\n\n" + objects + "\n";
  if (!a.other_threads.empty()) {
    out += "**Other threads of interest**\n\n";
    for (const auto& t : a.other_threads) out += "- " + thread_line(t) + "\n";
  }
  return out;
}

}  // namespace coroner::report
