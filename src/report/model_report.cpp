#include "coroner/report/model_report.hpp"

#include <cstdio>

#include "coroner/format.hpp"

namespace coroner::report {
namespace {

using os_model::thread_label;
using os_model::thread_name;

nlohmann::ordered_json thread_json(const Thread& t) {
  return {{"address", hex(t.address)}, {"id", t.thread_id}, {"pid", t.process_id}, {"lwp", t.lwp}, {"comm", t.comm},
          {"state", std::string(1, t.state)}, {"stack", {hex(t.stack_low), hex(t.stack_high)}},
          {"pc", hex(t.pc)}, {"sp", hex(t.sp)}, {"fp", hex(t.fp)}, {"problems", t.problems}};
}

// An audit record's stack holds return addresses: each names its caller, like a backtrace's frame.
std::string return_address_text(const Kernel& kernel, uint64_t pc) { return locate_in_image(kernel, pc, true).short_text(pc); }

std::string poison_text(const os_model::ModelWhatIs& w) {
  if (!w.poison) return "";
  const PoisonPattern& p = *w.poison->pattern;
  std::string out = p.name + (w.poison->delta ? " + " + hex(w.poison->delta) : "");
  if (!p.meaning.empty()) out += ": " + p.meaning;
  return out;
}

}  // namespace

std::string model_ps_text(const os_model::ModelThreads& threads) {
  std::string out = "   THREAD              ID     PID  ST  COMMAND\n";
  for (size_t i = 0; i < threads.threads.size(); ++i) {
    const auto& t = threads.threads[i];
    char line[256];
    std::snprintf(line, sizeof line, "%s %-18s %6llu %7lld  %c   %s\n", threads.panicking == i ? ">" : " ",
                  hex(t.address).c_str(), static_cast<unsigned long long>(t.thread_id), static_cast<long long>(t.process_id), t.state,
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

std::string model_bt_text(const Thread& t, const Backtrace& bt, bool panicking) {
  std::string out = "thread " + thread_label(t) +
                    (panicking ? ", the panicking thread" : "") + "\n";
  for (const auto& f : bt.frames) {
    char line[256];
    std::snprintf(line, sizeof line, " #%-2d %s %s\n", f.level, hex_padded(f.bp).c_str(), f.where.short_text(f.pc).c_str());
    out += line;
  }
  out += "  (" + bt.end + ")\n";
  return out;
}

nlohmann::ordered_json model_bt_json(const Thread& t, const Backtrace& bt, bool panicking) {
  nlohmann::ordered_json frames = nlohmann::ordered_json::array();
  for (const auto& f : bt.frames) {
    frames.push_back({{"level", f.level}, {"pc", hex(f.pc)}, {"fp", hex(f.bp)}, {"function", f.where.function}, {"offset", f.where.offset}});
  }
  return {{"thread", thread_json(t)}, {"panicking", panicking}, {"frames", frames}, {"end", bt.end}};
}

std::string model_whatthread_text(const std::vector<StackReference>& refs) {
  if (refs.empty()) return "no thread holds it\n";
  std::string out;
  for (const auto& r : refs) {
    out += thread_label(*r.thread) + ": " +
           hex(r.value) + " at " + hex(*r.location) + ", " + r.place.text + "\n";
  }
  return out;
}

nlohmann::ordered_json model_whatthread_json(uint64_t address, uint64_t size, const std::string& what,
                                             const std::vector<StackReference>& refs) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& r : refs) {
    list.push_back({{"thread", thread_json(*r.thread)}, {"value", hex(r.value)}, {"offset", r.value - address},
                    {"location", hex(*r.location)}, {"place", r.place.text}});
  }
  return {{"schema", "coroner.model-whatthread"}, {"address", hex(address)}, {"size", size}, {"object", what},
          {"references", list}};
}

std::string model_whatis_text(const Kernel& kernel, const os_model::ModelThreads& threads, const os_model::ModelWhatIs& w) {
  std::string out;
  bool said = false;
  if (w.buffer) {
    const auto& b = *w.buffer;
    // mdb's "ffffd0576bff2800 is freed from htable_t:"
    out += hex(w.address) + " is " + (w.address == b.address ? "" : hex(w.address - b.address) + " bytes into a buffer ") +
           (b.free ? "freed from " : "allocated from ") + b.cache + " (buffer " + hex(b.address) + ", " +
           std::to_string(b.size) + " bytes, cache " + hex(b.cache_address) + ")\n";
    if (b.audit) {
      out += "  bufctl " + hex(b.bufctl) + " (audit): last " + (b.free ? "freed" : "allocated") + " by thread " +
             thread_label(threads, b.audit->thread) + " at hrtime " + hex(b.audit->timestamp) + "\n";
      for (uint64_t pc : b.audit->stack) out += "    " + return_address_text(kernel, pc) + "\n";
    } else {
      out += "  bufctl " + hex(b.bufctl) + " (no audit record: the cache is not KMF_AUDIT)\n";
    }
    said = true;
  }
  if (w.stack) {
    out += hex(w.address) + " is on the stack of thread " + thread_label(threads.threads[w.stack->thread]) + ": " +
           w.stack->place + "\n";
    said = true;
  }
  if (!w.symbol.empty()) {
    out += hex(w.address) + " is " + w.symbol + " in the kernel\n";
    said = true;
  }
  if (!said) out += hex(w.address) + ": not a kernel symbol, a thread's stack or an allocator buffer coroner knows\n";
  if (w.poison) out += "  it holds " + hex(*w.word) + ", " + poison_text(w) + "\n";
  return out;
}

nlohmann::ordered_json model_whatis_json(const Kernel& kernel, const os_model::ModelThreads& threads,
                                         const os_model::ModelWhatIs& w) {
  nlohmann::ordered_json j = {{"address", hex(w.address)}};
  j["symbol"] = w.symbol.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(w.symbol);
  nlohmann::ordered_json buffer = nullptr;
  if (w.buffer) {
    const auto& b = *w.buffer;
    buffer = {{"address", hex(b.address)}, {"size", b.size}, {"offset", w.address - b.address}, {"cache", b.cache},
              {"cache_address", hex(b.cache_address)}, {"state", b.free ? "free" : "allocated"}, {"bufctl", hex(b.bufctl)}};
    nlohmann::ordered_json audit = nullptr;
    if (b.audit) {
      nlohmann::ordered_json stack = nlohmann::ordered_json::array();
      for (uint64_t pc : b.audit->stack) stack.push_back({{"pc", hex(pc)}, {"function", return_address_text(kernel, pc)}});
      audit = {{"thread", hex(b.audit->thread)}, {"thread_name", thread_label(threads, b.audit->thread)},
               {"timestamp", b.audit->timestamp}, {"stack", stack}};
    }
    buffer["audit"] = audit;
  }
  j["buffer"] = buffer;
  nlohmann::ordered_json stack = nullptr;
  if (w.stack) stack = {{"thread", thread_json(threads.threads[w.stack->thread])}, {"place", w.stack->place}};
  j["stack"] = stack;
  j["word"] = w.word ? nlohmann::ordered_json(hex(*w.word)) : nlohmann::ordered_json(nullptr);
  nlohmann::ordered_json poison = nullptr;
  if (w.poison) {
    const PoisonPattern& p = *w.poison->pattern;
    poison = {{"name", p.name}, {"delta", w.poison->delta}, {"state", p.state}, {"meaning", p.meaning}};
  }
  j["poison"] = poison;
  return j;
}

AnalysisSummary model_summary(const os_model::OsModel& model, const analysis::ModelAnalysis& a, const std::string& dump) {
  AnalysisSummary s;
  s.dump = dump;
  s.os = model.os;
  s.release = a.summary.release.value.value_or("");
  s.panic = a.threads.panic_message.value_or("");
  s.cause = a.summary.panic_cause.value.value_or(s.panic);
  s.signature = a.signature;
  if (a.threads.panicking) {
    const auto& t = a.threads.threads[*a.threads.panicking];
    ReportThread r{t.process_id, thread_name(t), t.state, "", {}};
    for (const auto& f : a.backtraces[*a.threads.panicking].frames) r.frames.push_back(f.where.short_text(f.pc));
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
