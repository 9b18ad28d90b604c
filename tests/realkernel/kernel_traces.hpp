#pragma once
// The kernel's own backtraces from a console log: sysrq-t's "task:NAME state:S ... pid:N" blocks
// and the panic's "Call Trace:". Frames the kernel marks "?" (found on the stack but not on the
// unwinder's path) are left out; "RIP: 0010:func+off" lines (a kernel frame interrupted by an
// IRQ or exception) are frames. Each line's printk timestamp is kept where a test needs to know
// what happened after the kernel printed it. A record the console printed twice (PREEMPT_RT's
// atomic console flushing at panic what its printer thread had already written: the same
// timestamp, the same text) is one record.
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace coroner::testing {

struct KernelTrace {
  std::string comm;
  char state = '?';
  int pid = 0, ppid = 0;
  uint64_t printed_ns = 0;          // the timestamp of its "task:" line
  std::vector<std::string> frames;  // "func+0xoff"
};

struct KernelTraces {
  std::map<int, KernelTrace> tasks;  // sysrq-t, by pid
  uint64_t show_state_ns = 0;        // when sysrq-t began
  std::vector<std::string> panic;    // the panic's Call Trace
  std::vector<std::string> oops;     // an oops's faulting RIP and Call Trace, up to "Modules linked in"
};

// "[   12.345678] ..." -> 12345678000
inline uint64_t printk_timestamp_ns(const std::string& line) {
  static const std::regex kStamp(R"(^\[ *(\d+)\.(\d{6})\])");
  std::smatch m;
  if (!std::regex_search(line, m, kStamp)) return 0;
  return std::stoull(m[1]) * 1000000000ull + std::stoull(m[2]) * 1000ull;
}

inline KernelTraces parse_kernel_traces(const std::string& log) {
  // "task:init state:S stack:0 pid:1 ppid:0" (6.12 adds "tgid:1" before ppid).
  static const std::regex kTask(R"(task:(.{15}) state:(\S).* pid:(\d+) +(?:tgid:\d+ +)?ppid:(\d+))");
  static const std::regex kFrame(R"(^\[[ \d.]+\]  (\? )?([\w.]+\+0x[0-9a-f]+)/0x[0-9a-f]+( \[\w+\])?$)");
  static const std::regex kRip(R"(^\[[ \d.]+\] RIP: 0010:([\w.]+\+0x[0-9a-f]+)/)");
  KernelTraces out;
  static const std::regex kOops(R"(general protection fault|BUG: unable to handle|kernel BUG at|Oops: )");
  enum { none, show_state, panic, oops } section = none;
  std::vector<std::string>* frames = nullptr;
  std::istringstream in(log);
  std::string line, previous;
  std::smatch m;
  while (std::getline(in, line)) {
    while (!line.empty() && line.back() == '\r') line.pop_back();  // the serial console's CRLF
    if (line.empty()) continue;
    if (line == previous && line.starts_with("[")) continue;
    previous = line;
    if (line.find("sysrq: Show State") != std::string::npos) {
      section = show_state;
      out.show_state_ns = printk_timestamp_ns(line);
      frames = nullptr;
      continue;
    }
    if (line.find("sysrq: Show backtrace of all active CPUs") != std::string::npos) section = none;
    if (section != oops && out.oops.empty() && std::regex_search(line, kOops)) {
      section = oops;
      frames = &out.oops;
      continue;
    }
    if (section == oops && line.find("Modules linked in") != std::string::npos) {
      section = none;
      frames = nullptr;
    }
    if (line.find("Kernel panic - not syncing") != std::string::npos) {
      section = panic;
      frames = &out.panic;
      continue;
    }
    if (section == none) continue;
    if (section == show_state && std::regex_search(line, m, kTask)) {
      KernelTrace t;
      t.comm = m[1].str();
      t.comm.erase(t.comm.find_last_not_of(' ') + 1);
      t.state = m[2].str()[0];
      t.pid = std::stoi(m[3]);
      t.ppid = std::stoi(m[4]);
      t.printed_ns = printk_timestamp_ns(line);
      frames = &(out.tasks[t.pid] = t).frames;
      continue;
    }
    if (!frames) continue;
    if (std::regex_match(line, m, kFrame)) {
      if (!m[1].matched) frames->push_back(m[2]);
    } else if (std::regex_search(line, m, kRip)) {
      frames->push_back(m[1]);
    }
  }
  return out;
}

}  // namespace coroner::testing
