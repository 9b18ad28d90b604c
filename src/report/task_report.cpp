#include "coroner/report/task_report.hpp"

#include <cstdio>

#include "coroner/format.hpp"

namespace coroner::report {
using namespace linux_kernel;

namespace {

std::string task_name(const Task& t) { return t.kernel_thread || t.idle ? "[" + t.comm + "]" : t.comm; }

std::string regs_text(const PtRegs& r, const char* indent) {
  static const int kOrder[] = {16, 19, 18, 10, 5, 11, 12, 13, 14, 4, 9, 8, 7, 6, 3, 2, 1, 0, 15, 17, 20};
  std::string out;
  int column = 0;
  for (int i : kOrder) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%3s: %016llx", column == 0 ? indent : "  ", pt_regs_name(i),
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

nlohmann::ordered_json regs_json(const PtRegs& r) {
  nlohmann::ordered_json j;
  for (int i = 0; i < kPtRegsCount; ++i) j[pt_regs_name(i)] = hex(r[i]);
  return j;
}

}  // namespace

std::string ps_text(const TaskList& tasks) {
  std::string out = "     PID    PPID  CPU        TASK        ST  COMM\n";
  for (const Task& t : tasks.tasks) {
    char buf[160];
    bool panicking = t.active_on && tasks.panic_cpu && *t.active_on == *tasks.panic_cpu;
    std::snprintf(buf, sizeof buf, "%c%c%6llu  %6lld  %3u  %016llx  %s  %s\n", t.active_on ? '>' : ' ',
                  panicking ? '*' : ' ', static_cast<unsigned long long>(t.thread_id), static_cast<long long>(t.parent_id), t.active_on.value_or(t.last_cpu),
                  static_cast<unsigned long long>(t.address), crash_state_name(t.state), task_name(t).c_str());
    out += buf;
  }
  out += "(> running on a CPU at the crash, * the panicking CPU)\n";
  return out;
}

nlohmann::ordered_json task_json(const Task& t) {
  nlohmann::ordered_json j{{"pid", t.thread_id}, {"tgid", t.process_id}, {"ppid", t.parent_id}, {"comm", t.comm},
                           {"task", hex(t.address)}, {"state", std::string(1, t.state)}, {"cpu", t.last_cpu}};
  j["active_on_cpu"] = t.active_on ? nlohmann::ordered_json(*t.active_on) : nullptr;
  j["idle"] = t.idle;
  j["kernel_thread"] = t.kernel_thread;
  return j;
}

nlohmann::ordered_json ps_json(const TaskList& tasks) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Task& t : tasks.tasks) {
    auto j = task_json(t);
    j["stack"] = {hex(t.stack_low), hex(t.stack_high)};
    list.push_back(std::move(j));
  }
  nlohmann::ordered_json cpus = nlohmann::ordered_json::array();
  for (const Cpu& c : tasks.cpus) {
    nlohmann::ordered_json stacks = nlohmann::ordered_json::array();
    for (const StackRange& s : c.stacks) stacks.push_back({{"kind", s.kind}, {"low", hex(s.low)}, {"high", hex(s.high)}});
    cpus.push_back({{"cpu", c.id}, {"current", hex(c.current)}, {"idle", hex(c.idle)},
                    {"registers_in_dump", c.registers.has_value()}, {"stacks", stacks}});
  }
  return {{"schema", "coroner.ps"},
          {"panic_cpu", tasks.panic_cpu ? nlohmann::ordered_json(*tasks.panic_cpu) : nullptr},
          {"thread_size", tasks.thread_size},
          {"cpus", cpus},
          {"tasks", list},
          {"problems", tasks.problems}};
}

std::string backtrace_text(const Task& t, const Backtrace& bt) {
  char head[200];
  std::snprintf(head, sizeof head, "PID: %-7llu TASK: %016llx  CPU: %-3s COMMAND: \"%s\"\n", static_cast<unsigned long long>(t.thread_id),
                static_cast<unsigned long long>(t.address),
                t.active_on ? std::to_string(*t.active_on).c_str() : "-", t.comm.c_str());
  std::string out = head;
  out += "  (from " + bt.start + ")\n";
  std::string stack;
  for (const Frame& f : bt.frames) {
    if (f.stack != stack && !f.stack.empty()) {
      if (!stack.empty() || f.stack != "task") out += " --- <" + f.stack + " stack> ---\n";
      stack = f.stack;
    }
    if (f.regs && f.level > 0) {
      out += "    [exception RIP: " + f.where.text(f.pc) + "]\n" + regs_text(*f.regs, "    ");
    }
    char line[64];
    std::snprintf(line, sizeof line, "%s#%-2d [%016llx] ", f.reliable ? " " : "?", f.level,
                  static_cast<unsigned long long>(f.sp));
    out += line + f.where.text(f.pc);
    if (!f.line.empty()) out += "  " + f.line;
    if (f.source == FrameSource::stack_scan) out += "  (stack scan)";
    else if (f.source == FrameSource::frame_pointer) out += "  (frame pointer)";
    out += '\n';
  }
  if (bt.user_regs) out += "    user-mode registers at kernel entry:\n" + regs_text(*bt.user_regs, "    ");
  if (bt.end != "user mode" && bt.end != "end of stack") out += "    unwind stopped: " + bt.end + "\n";
  return out;
}

nlohmann::ordered_json backtrace_json(const Task& t, const Backtrace& bt) {
  nlohmann::ordered_json frames = nlohmann::ordered_json::array();
  for (const Frame& f : bt.frames) {
    nlohmann::ordered_json j{{"level", f.level},
                             {"pc", hex(f.pc)},
                             {"function", f.where.function},
                             {"offset", f.where.offset},
                             {"size", f.where.size},
                             {"module", f.where.module.empty() ? nullptr : nlohmann::ordered_json(f.where.module)},
                             {"symbol", f.where.text(f.pc)},
                             {"line", f.line.empty() ? nullptr : nlohmann::ordered_json(f.line)},
                             {"sp", hex(f.sp)},
                             {"frame", {hex(f.sp), hex(f.caller_sp)}},
                             {"stack", f.stack},
                             {"source", frame_source_name(f.source)},
                             {"reliable", f.reliable}};
    if (f.regs_address) {
      j["regs_address"] = hex(*f.regs_address);
      if (f.regs) j["regs"] = regs_json(*f.regs);
    }
    frames.push_back(std::move(j));
  }
  nlohmann::ordered_json j{{"task", task_json(t)}, {"start", bt.start}, {"frames", frames},
                           {"end", bt.end}, {"reliable", bt.reliable}};
  if (bt.user_regs) j["user_regs"] = regs_json(*bt.user_regs);
  return j;
}

std::string modules_text(const ModuleList& modules, const ModuleDebugSet& debug) {
  std::string out = "     MODULE       NAME                     BASE         SIZE  SYMBOLS  ORC  OBJECT FILE\n";
  for (const LoadedModule& m : modules.modules) {
    const ModuleDebug* ko = debug.find(m.name);
    char buf[200];
    std::snprintf(buf, sizeof buf, "%016llx  %-20s  %016llx  %7llu  %7zu  %4u  ",
                  static_cast<unsigned long long>(m.address), m.name.c_str(), static_cast<unsigned long long>(m.base),
                  static_cast<unsigned long long>(m.size), m.symbols.size(), m.orc_count);
    out += buf + (ko ? ko->path : "(not loaded)") + "\n";
  }
  return out;
}

nlohmann::ordered_json modules_json(const ModuleList& modules, const ModuleDebugSet& debug) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const LoadedModule& m : modules.modules) {
    const ModuleDebug* ko = debug.find(m.name);
    nlohmann::ordered_json regions = nlohmann::ordered_json::array();
    for (const ModuleRegion& r : m.regions) regions.push_back({{"kind", r.kind}, {"start", hex(r.start)}, {"size", r.size}});
    list.push_back({{"name", m.name}, {"module", hex(m.address)}, {"base", hex(m.base)}, {"size", m.size},
                    {"text_size", m.text_size}, {"regions", regions}, {"state", m.state}, {"symbols", m.symbols.size()},
                    {"orc_entries", m.orc_count},
                    {"object_file", ko ? nlohmann::ordered_json(ko->path) : nlohmann::ordered_json(nullptr)}});
  }
  return {{"schema", "coroner.mod"}, {"modules", list}, {"problems", modules.problems}};
}

}  // namespace coroner::report
