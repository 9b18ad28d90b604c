#include "coroner/report/model_report.hpp"

#include <cstdio>

#include "coroner/format.hpp"
#include "coroner/rules/crash_signature.hpp"

namespace coroner::report {
namespace {

std::string thread_name(const os_model::ModelThread& t) {
  // mdb's "ksh/1": the process's command and the thread's lwp id.
  return (t.comm.empty() ? "?" : t.comm) + (t.lwp >= 0 ? "/" + std::to_string(t.lwp) : "");
}

nlohmann::ordered_json thread_json(const os_model::ModelThread& t) {
  return {{"address", hex(t.address)}, {"id", t.id}, {"pid", t.pid}, {"lwp", t.lwp}, {"comm", t.comm},
          {"state", std::string(1, t.state)}, {"stack", {hex(t.stack_low), hex(t.stack_high)}},
          {"pc", hex(t.pc)}, {"sp", hex(t.sp)}, {"fp", hex(t.fp)}, {"problems", t.problems}};
}

}  // namespace

std::string model_ps_text(const os_model::ModelThreads& threads) {
  std::string out = "   THREAD              ID     PID  ST  COMMAND\n";
  for (size_t i = 0; i < threads.threads.size(); ++i) {
    const auto& t = threads.threads[i];
    char line[256];
    std::snprintf(line, sizeof line, "%s %-18s %6llu %7lld  %c   %s\n", threads.panicking == i ? ">" : " ",
                  hex(t.address).c_str(), static_cast<unsigned long long>(t.id), static_cast<long long>(t.pid), t.state,
                  thread_name(t).c_str());
    out += line;
  }
  for (const auto& p : threads.problems) out += "(" + p + ")\n";
  return out;
}

nlohmann::ordered_json model_ps_json(const os_model::OsModel& model, const os_model::ModelThreads& threads) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& t : threads.threads) list.push_back(thread_json(t));
  nlohmann::ordered_json panicking = nullptr;
  if (threads.panicking) panicking = hex(threads.threads[*threads.panicking].address);
  return {{"schema", "coroner.model-ps"}, {"os", model.os}, {"panic", threads.panic_message.value_or("")},
          {"panicking_thread", panicking}, {"threads", list}, {"problems", threads.problems}};
}

std::string model_bt_text(const os_model::ModelThread& t, const os_model::ModelBacktrace& bt, bool panicking) {
  std::string out = "thread " + hex(t.address) + " (" + thread_name(t) + ", pid " + std::to_string(t.pid) + ")" +
                    (panicking ? ", the panicking thread" : "") + "\n";
  for (const auto& f : bt.frames) {
    char line[256];
    std::snprintf(line, sizeof line, " #%-2d %s %s\n", f.level, hex_padded(f.fp).c_str(), f.text().c_str());
    out += line;
  }
  out += "  (" + bt.end + ")\n";
  return out;
}

nlohmann::ordered_json model_bt_json(const os_model::ModelThread& t, const os_model::ModelBacktrace& bt, bool panicking) {
  nlohmann::ordered_json frames = nlohmann::ordered_json::array();
  for (const auto& f : bt.frames) {
    frames.push_back({{"level", f.level}, {"pc", hex(f.pc)}, {"fp", hex(f.fp)}, {"function", f.function}, {"offset", f.offset}});
  }
  return {{"thread", thread_json(t)}, {"panicking", panicking}, {"frames", frames}, {"end", bt.end}};
}

std::string model_whatthread_text(const std::vector<os_model::ModelStackReference>& refs) {
  if (refs.empty()) return "no thread holds it\n";
  std::string out;
  for (const auto& r : refs) {
    out += hex(r.thread->address) + " (" + thread_name(*r.thread) + ", pid " + std::to_string(r.thread->pid) + "): " +
           hex(r.value) + " at " + hex(r.location) + ", " + r.place + "\n";
  }
  return out;
}

nlohmann::ordered_json model_whatthread_json(uint64_t address, uint64_t size, const std::string& what,
                                             const std::vector<os_model::ModelStackReference>& refs) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& r : refs) {
    list.push_back({{"thread", thread_json(*r.thread)}, {"value", hex(r.value)}, {"offset", r.value - address},
                    {"location", hex(r.location)}, {"place", r.place}});
  }
  return {{"schema", "coroner.model-whatthread"}, {"address", hex(address)}, {"size", size}, {"object", what},
          {"references", list}};
}

AnalysisSummary model_summary(const os_model::OsModel& model, const os_model::ModelAnalysis& a, const std::string& dump) {
  AnalysisSummary s;
  s.dump = dump;
  s.os = model.os;
  s.panic = a.threads.panic_message.value_or("");
  s.cause = s.panic;
  std::vector<std::string> functions;
  if (a.facts.crashing >= 0) functions = a.facts.threads[static_cast<size_t>(a.facts.crashing)].functions;
  s.signature = rules::crash_signature(s.cause, functions, model.panic_machinery);
  if (a.threads.panicking) {
    const auto& t = a.threads.threads[*a.threads.panicking];
    ReportThread r{t.pid, thread_name(t), t.state, "", {}};
    for (const auto& f : a.backtraces[*a.threads.panicking].frames) r.frames.push_back(f.text());
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
      s.other_threads.push_back({t.pid, thread_name(t), t.state, what + " (" + h.where + ")", a.facts.threads[h.thread].functions});
    }
  }
  s.problems = a.problems;
  return s;
}

}  // namespace coroner::report
