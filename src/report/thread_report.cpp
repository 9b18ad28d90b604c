#include "coroner/report/thread_report.hpp"

#include <cstdio>

#include "coroner/format.hpp"

namespace coroner::report {
namespace {

using json = nlohmann::ordered_json;

json or_null(bool present, json value) { return present ? std::move(value) : json(nullptr); }
json optional_id(int64_t id) { return or_null(id >= 0, id); }
json optional_hex(uint64_t v) { return or_null(v != 0, hex(v)); }

// crash's ps shows kernel threads in brackets.
std::string command_name(const Thread& t) { return t.kernel_thread || t.idle ? "[" + thread_name(t) + "]" : thread_name(t); }

std::string id_text(int64_t id) { return id >= 0 ? std::to_string(id) : "-"; }

std::string cpu_text(const Thread& t) {
  if (t.active_on) return std::to_string(*t.active_on);
  return t.last_cpu ? std::to_string(*t.last_cpu) : "-";
}

std::string regs_text(const x86_64::PtRegs& r, const char* indent) {
  static const int kOrder[] = {16, 19, 18, 10, 5, 11, 12, 13, 14, 4, 9, 8, 7, 6, 3, 2, 1, 0, 15, 17, 20};
  std::string out;
  int column = 0;
  for (int i : kOrder) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%3s: %016llx", column == 0 ? indent : "  ", x86_64::pt_regs_name(i),
                  static_cast<unsigned long long>(r[i]));
    out += buf;
    if (++column == 3) {
      out += '\n';
      column = 0;
    }
  }
  if (column) out += '\n';
  return out;
}

json regs_json(const x86_64::PtRegs& r) {
  json j;
  for (int i = 0; i < x86_64::kPtRegsCount; ++i) j[x86_64::pt_regs_name(i)] = hex(r[i]);
  return j;
}

std::string frame_text(const Frame& f) {
  char head[64];
  std::snprintf(head, sizeof head, "%s#%-2d [%016llx] ", f.reliable ? " " : "?", f.level, static_cast<unsigned long long>(f.sp));
  std::string out = head + f.where.text(f.pc);
  if (!f.line.empty()) out += "  " + f.line;
  if (f.source == FrameSource::stack_scan) out += "  (stack scan)";
  else if (f.source == FrameSource::frame_pointer) out += "  (frame pointer)";
  return out + '\n';
}

json frame_json(const Frame& f) {
  json j{{"level", f.level},
         {"pc", hex(f.pc)},
         {"function", f.where.function},
         {"offset", f.where.offset},
         {"size", f.where.size},
         {"module", or_null(!f.where.module.empty(), f.where.module)},
         {"symbol", f.where.text(f.pc)},
         {"line", or_null(!f.line.empty(), f.line)},
         {"sp", hex(f.sp)},
         {"fp", optional_hex(f.bp)},
         {"frame", {hex(f.sp), hex(f.caller_sp)}},
         {"stack", f.stack},
         {"source", frame_source_name(f.source)},
         {"reliable", f.reliable}};
  if (f.regs_address) {
    j["regs_address"] = hex(*f.regs_address);
    if (f.regs) j["regs"] = regs_json(*f.regs);
  }
  return j;
}

}  // namespace

json thread_json(const Thread& t) {
  return {{"address", hex(t.address)},
          {"tid", t.thread_id},
          {"pid", optional_id(t.process_id)},
          {"ppid", optional_id(t.parent_id)},
          {"lwp", optional_id(t.lwp)},
          {"comm", t.comm},
          {"state", std::string(1, t.state)},
          {"cpu", or_null(t.last_cpu.has_value(), t.last_cpu.value_or(0))},
          {"active_on_cpu", or_null(t.active_on.has_value(), t.active_on.value_or(0))},
          {"idle", t.idle},
          {"kernel_thread", t.kernel_thread},
          {"stack", {hex(t.stack_low), hex(t.stack_high)}},
          {"pc", optional_hex(t.pc)},
          {"sp", optional_hex(t.sp)},
          {"fp", optional_hex(t.fp)},
          {"problems", t.problems}};
}

std::string ps_text(const ThreadList& list) {
  std::string out = "      TID      PID     PPID  CPU  THREAD            ST  COMM\n";
  for (const Thread& t : list.threads) {
    char buf[200];
    const bool crashed = list.crashed == list.index_of(t);
    std::snprintf(buf, sizeof buf, "%c%c%7llu  %7s  %7s  %3s  %016llx  %c   %s\n", t.active_on ? '>' : ' ', crashed ? '*' : ' ',
                  static_cast<unsigned long long>(t.thread_id), id_text(t.process_id).c_str(), id_text(t.parent_id).c_str(),
                  cpu_text(t).c_str(), static_cast<unsigned long long>(t.address), t.state, command_name(t).c_str());
    out += buf;
  }
  for (const auto& p : list.problems) out += "(" + p + ")\n";
  out += "(> running on a CPU at the crash, * the thread that panicked)\n";
  return out;
}

json ps_json(const std::string& os, const ThreadList& list) {
  json threads = json::array();
  for (const Thread& t : list.threads) threads.push_back(thread_json(t));
  json cpus = json::array();
  for (const Cpu& c : list.cpus) {
    json stacks = json::array();
    for (const StackRange& s : c.stacks) stacks.push_back({{"kind", s.kind}, {"low", hex(s.low)}, {"high", hex(s.high)}});
    cpus.push_back({{"cpu", c.id}, {"current", hex(c.current)}, {"idle", hex(c.idle)},
                    {"registers_in_dump", c.registers.has_value()}, {"stacks", stacks}});
  }
  const Thread* crashed = list.crashed_thread();
  return {{"schema", "coroner.ps"},
          {"schema_version", kThreadSchemaVersion},
          {"os", os},
          {"panic", or_null(list.panic_message.has_value(), list.panic_message.value_or(""))},
          {"panicking_thread", or_null(crashed, crashed ? hex(crashed->address) : "")},
          {"panic_cpu", or_null(list.panic_cpu.has_value(), list.panic_cpu.value_or(0))},
          {"thread_size", or_null(list.thread_size != 0, list.thread_size)},
          {"cpus", cpus},
          {"threads", threads},
          {"problems", list.problems}};
}

std::string backtrace_text(const Thread& t, const Backtrace& bt, bool crashed) {
  char head[256];
  std::snprintf(head, sizeof head, "TID: %-7llu PID: %-7s THREAD: %016llx  CPU: %-3s COMMAND: \"%s\"%s\n",
                static_cast<unsigned long long>(t.thread_id), id_text(t.process_id).c_str(),
                static_cast<unsigned long long>(t.address), t.active_on ? std::to_string(*t.active_on).c_str() : "-",
                thread_name(t).c_str(), crashed ? "  (panicked)" : "");
  std::string out = head;
  if (!bt.start.empty()) out += "  (from " + bt.start + ")\n";
  std::string stack;
  for (const Frame& f : bt.frames) {
    if (f.stack != stack && !f.stack.empty()) {
      if (!stack.empty() || !t.on_own_stack(f.sp)) out += " --- <" + f.stack + " stack> ---\n";
      stack = f.stack;
    }
    if (f.regs && f.level > 0) out += "    [exception RIP: " + f.where.text(f.pc) + "]\n" + regs_text(*f.regs, "    ");
    out += frame_text(f);
  }
  if (bt.user_regs) out += "    user-mode registers at kernel entry:\n" + regs_text(*bt.user_regs, "    ");
  if (bt.end != "user mode" && bt.end != "end of stack") out += "    unwind stopped: " + bt.end + "\n";
  return out;
}

json backtrace_json(const Thread& t, const Backtrace& bt, bool crashed) {
  json frames = json::array();
  for (const Frame& f : bt.frames) frames.push_back(frame_json(f));
  json j{{"thread", thread_json(t)}, {"panicking", crashed}, {"start", bt.start}, {"frames", frames},
         {"end", bt.end}, {"reliable", bt.reliable}};
  if (bt.user_regs) j["user_regs"] = regs_json(*bt.user_regs);
  return j;
}

json bt_json(const std::string& os, json backtraces) {
  return {{"schema", "coroner.bt"}, {"schema_version", kThreadSchemaVersion}, {"os", os}, {"backtraces", std::move(backtraces)}};
}

std::string whatthread_text(const HeldRange& range, const std::vector<StackReference>& refs) {
  std::string out = "threads holding a value in [" + hex(range.address) + ", " + hex(range.address + range.size) + ")" +
                    (range.what.empty() ? "" : " (" + range.what + ")") + ":\n";
  for (const auto& r : refs) {
    out += "  tid " + std::to_string(r.thread->thread_id) + " (" + thread_name(*r.thread) + ")  ";
    if (r.location) out += (r.stack.empty() ? "" : r.stack + " ") + "stack " + hex(*r.location);
    out += "  " + hex(r.value);
    if (r.value != range.address) out += " (+" + hex(r.value - range.address) + ")";
    out += "  " + r.place.text + '\n';
  }
  if (refs.empty()) out += "  none\n";
  return out;
}

json whatthread_json(const std::string& os, const HeldRange& range, const std::vector<StackReference>& refs) {
  json list = json::array();
  for (const auto& r : refs) {
    list.push_back({{"thread", thread_json(*r.thread)},
                    {"value", hex(r.value)},
                    {"offset", r.value - range.address},
                    {"location", or_null(r.location.has_value(), hex(r.location.value_or(0)))},
                    {"register", or_null(!r.reg.empty(), r.reg)},
                    {"stack", r.stack},
                    {"frame", or_null(r.place.frame.has_value(), r.place.frame ? r.place.frame->level : 0)},
                    {"function", or_null(r.place.frame.has_value(), r.place.frame ? r.place.frame->where.function : "")},
                    {"place", r.place.text}});
  }
  return {{"schema", "coroner.whatthread"}, {"schema_version", kThreadSchemaVersion}, {"os", os},
          {"address", hex(range.address)}, {"size", range.size}, {"object", range.what}, {"references", list}};
}

}  // namespace coroner::report
