#include "coroner/target/kernel_log.hpp"

namespace coroner {

namespace {

// Calls `line` with each line of a record's text; an empty record is one empty line.
template <class F>
void for_each_line(const std::string& text, F&& line) {
  for (size_t start = 0;;) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      if (start < text.size() || start == 0) line(std::string_view(text).substr(start));
      return;
    }
    line(std::string_view(text).substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace

std::vector<std::string> KernelLog::lines() const {
  std::vector<std::string> out;
  for (const LogRecord& r : records) for_each_line(r.text, [&](std::string_view l) { out.emplace_back(l); });
  return out;
}

std::vector<console::ConsoleLine> KernelLog::console_lines() const {
  std::vector<console::ConsoleLine> out;
  for (const LogRecord& r : records) {
    for_each_line(r.text, [&](std::string_view text) {
      console::ConsoleLine line;
      line.number = out.size() + 1;
      // A byte ring's text is what the console printed, prefixes and all; printk's records are bare.
      line.text = stamped ? std::string(text) : std::string(console::strip_prefixes(text, line));
      if (stamped) {
        if (r.caller_id & 0x80000000u) line.cpu = r.caller_id & 0x7fffffffu;
        else line.task = r.caller_id;
      }
      out.push_back(std::move(line));
    });
  }
  return out;
}

}  // namespace coroner
