#include "coroner/target/kernel_log.hpp"

namespace coroner {

std::vector<std::string> KernelLog::lines() const {
  std::vector<std::string> out;
  for (const LogRecord& r : records) {
    for (size_t start = 0;;) {
      size_t end = r.text.find('\n', start);
      if (end == std::string::npos) {
        if (start < r.text.size() || start == 0) out.push_back(r.text.substr(start));
        break;
      }
      out.push_back(r.text.substr(start, end - start));
      start = end + 1;
    }
  }
  return out;
}

std::vector<console::ConsoleLine> KernelLog::console_lines() const {
  std::vector<console::ConsoleLine> out;
  for (const LogRecord& r : records) {
    KernelLog one{{r}, stamped, std::nullopt, {}};
    for (std::string& text : one.lines()) {
      console::ConsoleLine line;
      line.number = out.size() + 1;
      // A byte ring's text is what the console printed, prefixes and all; printk's records are bare.
      line.text = stamped ? std::move(text) : std::string(console::strip_prefixes(text, line));
      if (stamped) {
        if (r.caller_id & 0x80000000u) line.cpu = r.caller_id & 0x7fffffffu;
        else line.task = r.caller_id;
      }
      out.push_back(std::move(line));
    }
  }
  return out;
}

}  // namespace coroner
