#pragma once
// The crash reports a kernel's console holds, named as the kernel community names them: syzbot's
// titles ("KASAN: use-after-free Read in FUNC", "general protection fault in FUNC", "INFO: task
// hung in FUNC", ...), with the guilty frame chosen past the reporting machinery. The formats are
// the kernel's own printk formats (x86-64 and arm64, and the architecture-neutral ones), read from
// its sources; docs/crash-titles.md lists them.
#include <optional>
#include <string>
#include <vector>

#include "coroner/console/console_lines.hpp"
#include "coroner/console/stack_frames.hpp"

namespace coroner::console {

struct CrashReport {
  std::string title;                    // "general protection fault in coroner_crash"
  std::vector<std::string> alt_titles;  // other names the community uses for the same report
  std::string type;                     // use-after-free, out-of-bounds, null-deref, hang, lockup, ...
  std::string corrupted;                // why the report cannot be trusted whole; empty when it can
  std::string guilty_frame;             // the function the title names, clone suffixes dropped
  std::string header;                   // the line that starts it, as printed
  std::vector<StackFrame> frames;       // the faulting location then the call trace, reliable frames only
  size_t guilty = 0;                    // index of the guilty frame in `frames` (frames.size(): none)
  std::vector<std::string> registers;   // the register block, as printed
  std::vector<std::string> modules;     // "Modules linked in:"
  std::string tainted;                  // the taint letters ("OE"); empty when not tainted
  std::optional<unsigned> cpu, pid;
  std::string comm;
  size_t first_line = 0, last_line = 0;  // 1-based lines of the input
  bool fatal = false;                   // an oops-class report: the kernel cannot go on past it
};

struct ConsoleReading {
  std::vector<CrashReport> reports;  // in the order the log has them
  std::optional<size_t> crash;       // the one that brought the machine down (see read_console)
  std::string panic;                 // "Kernel panic - not syncing: ...", when the log has one
};

struct ReadOptions {
  // Types of report that are not crashes on this machine ("warning" without panic_on_warn): they
  // are listed, never the crash.
  std::vector<std::string> not_crashes;
};

// Every report in the lines. The crash is the report the panic was the consequence of (the last
// one before it, of the kind the panic names), or without a panic the first fatal report, or the
// first report.
ConsoleReading read_console(const std::vector<ConsoleLine>& lines, const ReadOptions& options = {});

// The frames a signature hashes: from the guilty frame on, at most `count`.
std::vector<std::string> guilty_frames(const CrashReport& report, size_t count);

}  // namespace coroner::console
