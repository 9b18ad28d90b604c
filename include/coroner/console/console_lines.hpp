#pragma once
// A kernel's console as text: a serial capture, `dmesg`, syslog, the journal, netconsole or a
// paste into a bug tracker. Each line loses what the capture put before the kernel's own text (a
// syslog or journal prefix, dmesg's level and facility, the printk time and caller) and keeps the
// caller's CPU or task, which tells apart the lines two CPUs printed at once.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::console {

struct ConsoleLine {
  std::string text;               // the kernel's text, with no prefix and no trailing CR
  std::optional<unsigned> cpu;    // "[    C0]": printed in interrupt context on this CPU
  std::optional<unsigned> task;   // "[ T1234]": printed by this task
  size_t number = 0;              // 1-based line of the input it came from

  bool same_context(const ConsoleLine& other) const;  // true when either has none
};

// Every line of a console text; lines of only a prefix are kept (empty text).
std::vector<ConsoleLine> console_lines(std::string_view text);

// The text of one line with its prefixes removed; `line` gets its context.
std::string_view strip_prefixes(std::string_view raw, ConsoleLine& line);

}  // namespace coroner::console
