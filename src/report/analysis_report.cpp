#include "coroner/report/analysis_report.hpp"

#include "coroner/format.hpp"

namespace coroner::report {
namespace {

constexpr size_t kFramesShown = 12;

std::string object_place(const rules::ObjectFacts& o) {
  switch (o.place) {
    case rules::ObjectPlace::stack: return "stack";
    case rules::ObjectPlace::panic_message: return "panic message";
    case rules::ObjectPlace::frame: return "frame";
    default: return "slab";
  }
}

std::string object_state(const rules::ObjectFacts& o) {
  if (o.place == rules::ObjectPlace::stack) return o.dead_frame ? "dead frame" : "live frame";
  if (o.place == rules::ObjectPlace::panic_message) return "named";
  if (o.place == rules::ObjectPlace::frame) return "pointed to";
  return o.free ? "free" : "allocated";
}

// The objects worth a line in a report: freed ones and stack addresses; the JSON has them all.
// A reallocated object is worth a line only when the crash touched it: a young system recycles its
// task_structs and files all the time.
bool worth_showing(const rules::ObjectFacts& o) {
  return o.place != rules::ObjectPlace::slab || o.free || (o.reallocation && o.operand);
}

nlohmann::ordered_json reallocation_json(const rules::ObjectFacts& o) {
  if (!o.reallocation) return nullptr;
  const rules::Reallocation& r = *o.reallocation;
  auto age = [](const std::optional<double>& a) { return a ? nlohmann::ordered_json(*a) : nlohmann::ordered_json(nullptr); };
  return {{"freed_by_pid", r.free_pid}, {"freed_in", r.free_function}, {"freed_seconds_before", age(r.free_age)},
          {"allocated_by_pid", r.alloc_pid}, {"allocated_in", r.alloc_function},
          {"allocated_seconds_before", age(r.alloc_age)}};
}

std::string object_line(const rules::Facts& facts, const rules::ObjectFacts& o) {
  std::string what = !o.cache.empty() ? o.cache + " " : (!o.type.empty() ? o.type + " " : "");
  std::string s = object_state(o) + " " + what + hex(o.address) + ": " + o.found_as;
  if (o.reallocation) s += "; " + rules::reallocation_text(*o.reallocation);
  for (const auto& h : o.holders) {
    if (static_cast<int>(h.thread) == facts.crashing) continue;
    const auto& t = facts.threads[h.thread];
    s += "; held by pid " + std::to_string(t.pid) + " (" + t.comm + ") " + h.where;
  }
  return s;
}

std::string thread_line(const ReportThread& t) {
  std::string s = "pid " + std::to_string(t.pid) + " (" + t.comm + ") [" + t.state + "] " + t.why + ":";
  for (size_t i = 0; i < t.frames.size(); ++i) s += (i ? " <- " : " ") + t.frames[i];
  return s;
}

std::string objects_text(const AnalysisSummary& s, const char* bullet) {
  std::string out;
  if (!s.facts) return out;
  for (const auto& o : s.facts->objects) {
    if (worth_showing(o)) out += bullet + object_line(*s.facts, o) + "\n";
  }
  return out;
}

// A log's frames as its call trace printed them, the guilty one marked.
std::vector<std::string> frame_lines(const console::CrashReport& r) {
  std::vector<std::string> out;
  for (size_t i = 0; i < r.frames.size() && out.size() < kFramesShown; ++i) {
    const auto& f = r.frames[i];
    out.push_back(f.function + (f.module.empty() ? "" : " [" + f.module + "]") + (i == r.guilty ? "  <- guilty" : ""));
  }
  return out;
}

nlohmann::ordered_json or_null(const std::string& s) { return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s); }

nlohmann::ordered_json report_json(const console::CrashReport& r) {
  nlohmann::ordered_json frames = nlohmann::ordered_json::array();
  for (const auto& f : r.frames) frames.push_back({{"function", f.function}, {"module", or_null(f.module)}});
  auto number = [](const std::optional<unsigned>& n) { return n ? nlohmann::ordered_json(*n) : nlohmann::ordered_json(nullptr); };
  return {{"title", r.title}, {"alt_titles", r.alt_titles}, {"type", r.type}, {"corrupted", !r.corrupted.empty()},
          {"corrupted_reason", or_null(r.corrupted)}, {"guilty_frame", or_null(r.guilty_frame)}, {"header", r.header},
          {"first_line", r.first_line}, {"last_line", r.last_line}, {"cpu", number(r.cpu)}, {"pid", number(r.pid)},
          {"comm", or_null(r.comm)}, {"tainted", r.tainted}, {"modules", r.modules}, {"registers", r.registers},
          {"call_trace", frames}};
}

std::string report_line(const console::CrashReport& r) {
  return r.title + "  (" + r.type + ", line " + std::to_string(r.first_line) + (r.corrupted.empty() ? "" : ", corrupted: " + r.corrupted) + ")";
}

// What only a log analysis shows: a dump's report has them from the dump itself.
std::string log_details_text(const console::CrashReport& r) {
  std::string out;
  if (!r.registers.empty()) {
    out += "\nregisters:\n";
    for (const auto& line : r.registers) out += "  " + line + "\n";
  }
  if (!r.modules.empty()) {
    out += "\nmodules linked in:";
    for (const auto& m : r.modules) out += " " + m;
    out += "\n";
  }
  if (!r.tainted.empty()) out += "tainted: " + r.tainted + "\n";
  return out;
}

std::string confidence_text(double c) {
  char text[16];
  std::snprintf(text, sizeof text, "%.2f", c);
  return text;
}

}  // namespace

AnalysisSummary analysis_summary(const analysis::CrashAnalysis& a, const std::string& dump, bool from_log) {
  AnalysisSummary s;
  s.dump = dump;
  s.from_log = from_log;
  const auto& reading = a.summary.reports;
  for (size_t i = 0; i < reading.reports.size(); ++i) {
    if (reading.crash && i == *reading.crash) s.crash = reading.reports[i];
    else s.others.push_back(reading.reports[i]);
  }
  if (!a.crashing && s.crash) s.crashing = ReportThread{s.crash->pid.value_or(0), s.crash->comm, '?', "", frame_lines(*s.crash)};
  s.os = a.summary.os;
  s.release = a.summary.release.value.value_or("");
  s.panic = a.summary.panic_message.value.value_or("");
  s.cause = a.summary.panic_cause.value.value_or("");
  s.signature = a.signature;
  if (a.crashing) {
    const bool in_facts = a.facts.crashing >= 0;
    const int64_t pid = in_facts ? a.facts.threads[static_cast<size_t>(a.facts.crashing)].pid : static_cast<int64_t>(a.crashing->thread_id);
    ReportThread t{pid, thread_name(*a.crashing), a.crashing->state, "", {}};
    if (a.crashing_bt) {
      for (const auto& f : a.crashing_bt->frames) {
        if (t.frames.size() >= kFramesShown) break;
        t.frames.push_back(f.where.text(f.pc) + (f.line.empty() ? "" : "  " + f.line) + (f.reliable ? "" : "  (unreliable)"));
      }
    }
    s.crashing = t;
  }
  if (a.fault) s.fault = a.fault->findings;
  s.facts = &a.facts;
  for (const auto& t : a.other_threads) s.other_threads.push_back({t.pid, thread_name(*t.thread), t.thread->state, t.why, t.functions});
  s.problems = a.problems;
  s.symbols_from = a.symbols_from;
  s.types_from = a.types_from;
  return s;
}

nlohmann::ordered_json analysis_json(const AnalysisInput& in) {
  const AnalysisSummary& s = in.summary;
  nlohmann::ordered_json verdicts = nlohmann::ordered_json::array();
  for (const auto& v : *in.verdicts) {
    verdicts.push_back({{"id", v.rule->id}, {"title", v.rule->title}, {"severity", v.rule->severity},
                        {"confidence", v.rule->confidence}, {"explanation", v.rule->explanation}, {"fix", v.rule->fix},
                        {"references", v.rule->references}, {"rule_file", v.rule->file}, {"evidence", v.evidence}});
  }
  nlohmann::ordered_json objects = nlohmann::ordered_json::array();
  if (s.facts) {
    for (const auto& o : s.facts->objects) {
      nlohmann::ordered_json holders = nlohmann::ordered_json::array();
      for (const auto& h : o.holders) {
        const auto& t = s.facts->threads[h.thread];
        holders.push_back({{"pid", t.pid}, {"comm", t.comm}, {"where", h.where}});
      }
      objects.push_back({{"address", hex(o.address)}, {"place", object_place(o)}, {"cache", o.cache}, {"type", o.type},
                         {"state", object_state(o)}, {"found_as", o.found_as}, {"pointers", o.pointers},
                         {"reallocated", reallocation_json(o)}, {"holders", holders}});
    }
  }
  nlohmann::ordered_json others = nlohmann::ordered_json::array();
  for (const auto& t : s.other_threads) {
    others.push_back({{"pid", t.pid}, {"comm", t.comm}, {"state", std::string(1, t.state)}, {"why", t.why},
                      {"functions", t.frames}});
  }
  nlohmann::ordered_json crashing = nullptr;
  if (s.crashing) crashing = {{"pid", s.crashing->pid}, {"comm", s.crashing->comm}, {"frames", s.crashing->frames}};
  nlohmann::ordered_json fault = nullptr;
  if (s.fault) fault = {{"findings", *s.fault}};
  nlohmann::ordered_json others_reports = nlohmann::ordered_json::array();
  for (const auto& r : s.others) others_reports.push_back(report_json(r));
  const console::CrashReport* c = s.crash ? &*s.crash : nullptr;
  return {{"schema", "coroner.analysis"}, {"version", 2}, {"dump", s.from_log ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.dump)},
          {"log", s.from_log ? nlohmann::ordered_json(s.dump) : nlohmann::ordered_json(nullptr)}, {"os", s.os}, {"release", s.release},
          {"panic", s.panic}, {"cause", s.cause}, {"title", c ? nlohmann::ordered_json(c->title) : nlohmann::ordered_json(nullptr)},
          {"alt_titles", c ? c->alt_titles : std::vector<std::string>{}}, {"type", c ? or_null(c->type) : nullptr},
          {"corrupted", c && !c->corrupted.empty()}, {"guilty_frame", c ? or_null(c->guilty_frame) : nullptr},
          {"signature", s.signature}, {"report", c ? report_json(*c) : nlohmann::ordered_json(nullptr)},
          {"other_reports", others_reports}, {"crashing_thread", crashing},
          {"fault", fault}, {"objects", objects}, {"other_threads", others}, {"verdicts", verdicts},
          {"problems", s.problems}, {"debug_info", {{"symbols", s.symbols_from}, {"types", s.types_from}}}};
}

std::string analysis_text(const AnalysisInput& in) {
  const AnalysisSummary& s = in.summary;
  std::string out = std::string(s.from_log ? "log       " : "dump      ") + s.dump + "\nos        " + s.os +
                    "\nrelease   " + s.release + "\npanic     " + (s.panic.empty() ? "(none)" : s.panic) + "\ncause     " +
                    (s.cause.empty() ? "(none)" : s.cause) + "\n";
  if (s.crash) {
    out += "title     " + s.crash->title + "\n";
    for (const auto& alt : s.crash->alt_titles) out += "also      " + alt + "\n";
    out += "type      " + s.crash->type + "\n";
    if (!s.crash->corrupted.empty()) out += "corrupted " + s.crash->corrupted + "\n";
  }
  out += "signature " + s.signature + "\n";
  if (in.verdicts->empty()) {
    out += "\nverdict   no rule matched\n";
  } else {
    out += "\nverdicts (most confident first):\n";
    for (const auto& v : *in.verdicts) {
      out += "  [" + confidence_text(v.rule->confidence) + "] " + v.rule->title + "  (" + v.rule->id + ", " +
             v.rule->severity + ")\n";
      for (const auto& e : v.evidence) out += "      evidence: " + e + "\n";
    }
  }
  if (s.crashing) {
    out += "\ncrashing thread: pid " + std::to_string(s.crashing->pid) + " (" + s.crashing->comm + ")\n";
    for (const auto& f : s.crashing->frames) out += "  " + f + "\n";
  }
  if (s.fault) {
    out += "\nthe fault:\n";
    for (const auto& f : *s.fault) out += "  " + f + "\n";
  }
  if (std::string objects = objects_text(s, "  "); !objects.empty()) out += "\nobjects the crashing thread used:\n" + objects;
  if (!s.other_threads.empty()) {
    out += "\nother threads of interest:\n";
    for (const auto& t : s.other_threads) out += "  " + thread_line(t) + "\n";
  }
  if (s.crash && s.from_log) out += log_details_text(*s.crash);
  if (!s.others.empty()) {
    out += "\nother reports in the log:\n";
    for (const auto& r : s.others) out += "  " + report_line(r) + "\n";
  }
  if (!in.verdicts->empty()) {
    const auto& best = *in.verdicts->front().rule;
    out += "\nwhy: " + best.explanation + "\nfix: " + best.fix + "\n";
  }
  for (const auto& p : s.problems) out += "(" + p + ")\n";
  out += "\nsymbols from " + s.symbols_from + "\ntypes from " + s.types_from + "\n";
  return out;
}

std::string analysis_markdown(const AnalysisInput& in) {
  const AnalysisSummary& s = in.summary;
  std::string out = "### coroner: " +
                    (!in.verdicts->empty() ? in.verdicts->front().rule->title : s.crash ? s.crash->title : std::string("no known signature")) +
                    "\n\n";
  out += "| | |\n|---|---|\n";
  if (s.crash) {
    out += "| title | `" + s.crash->title + "` |\n| type | " + s.crash->type + " |\n";
    if (!s.crash->corrupted.empty()) out += "| corrupted | " + s.crash->corrupted + " |\n";
  }
  out += "| os | `" + s.os + "` |\n| release | `" + s.release + "` |\n| panic | `" + s.panic + "` |\n| cause | `" + s.cause +
         "` |\n| signature | `" + s.signature.substr(0, 16) + "` |\n| symbols | " + s.symbols_from + " |\n| types | " +
         s.types_from + " |\n\n";
  for (const auto& v : *in.verdicts) {
    out += "**" + v.rule->title + "** (`" + v.rule->id + "`, confidence " + confidence_text(v.rule->confidence) + ")\n\n";
    for (const auto& e : v.evidence) out += "- " + e + "\n";
    out += "\n" + v.rule->explanation + "\n\n";
  }
  if (s.crashing) {
    out += "<details><summary>crashing thread: pid " + std::to_string(s.crashing->pid) + " (" + s.crashing->comm +
           ")</summary>\n\n```\n";
    for (const auto& f : s.crashing->frames) out += f + "\n";
    out += "```\n</details>\n\n";
  }
  if (s.fault) {
    out += "**The fault**\n\n";
    for (const auto& f : *s.fault) out += "- " + f + "\n";
    out += "\n";
  }
  if (std::string objects = objects_text(s, "- "); !objects.empty()) out += "**Objects the crashing thread used**\n\n" + objects + "\n";
  if (!s.other_threads.empty()) {
    out += "**Other threads of interest**\n\n";
    for (const auto& t : s.other_threads) out += "- " + thread_line(t) + "\n";
  }
  if (!s.others.empty()) {
    out += "\n**Other reports in the log**\n\n";
    for (const auto& r : s.others) out += "- " + report_line(r) + "\n";
  }
  return out;
}

}  // namespace coroner::report
