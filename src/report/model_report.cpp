#include "coroner/report/model_report.hpp"

#include "coroner/format.hpp"

namespace coroner::report {
AnalysisSummary model_summary(const os_model::OsModel& model, const analysis::ModelAnalysis& a, const std::string& dump) {
  AnalysisSummary s;
  s.dump = dump;
  s.os = model.os;
  s.release = a.summary.release.value.value_or("");
  s.panic = a.threads.panic_message.value_or("");
  s.cause = a.summary.panic_cause.value.value_or(s.panic);
  s.signature = a.signature;
  if (a.threads.crashed) {
    const auto& t = a.threads.threads[*a.threads.crashed];
    ReportThread r{t.process_id, thread_name(t), t.state, "", {}};
    for (const auto& f : a.backtraces[*a.threads.crashed].frames) r.frames.push_back(f.where.short_text(f.pc));
    s.crashing = r;
  }
  s.facts = &a.facts;
  for (const auto& o : a.facts.objects) {
    const bool named = o.place == rules::ObjectPlace::panic_message;
    if (!o.free && !named) continue;
    for (const auto& h : o.holders) {
      if (static_cast<int>(h.thread) == a.facts.crashing) continue;
      const auto& t = a.threads.threads[h.thread];
      std::string what = named ? "holds " + hex(o.address) + ", which the panic message names"
                               : "holds freed " + o.cache + " buffer " + hex(o.address);
      s.other_threads.push_back({t.process_id, thread_name(t), t.state, what + " (" + h.where + ")", a.facts.threads[h.thread].functions});
    }
  }
  s.problems = a.problems;
  return s;
}

}  // namespace coroner::report
