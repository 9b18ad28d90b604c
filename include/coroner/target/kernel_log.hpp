#pragma once
// A kernel's log as every target reads it: Linux's printk records (sequence, time, caller) or a
// model kernel's message buffer, whose lines carry only their text.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/console/console_lines.hpp"

namespace coroner {

struct LogRecord {
  uint64_t seq = 0;
  uint64_t timestamp_ns = 0;
  uint32_t caller_id = 0;  // bit 31 set: CPU number; clear: task pid
  std::string text;        // raw bytes as the kernel stored them
};

// A plain byte ring (FreeBSD's msgbuf, Linux's log_buf before 5.10): where it is and where the
// kernel would write next.
struct MessageBuffer {
  uint64_t buffer = 0, size = 0, write_position = 0;
};

struct KernelLog {
  std::vector<LogRecord> records;
  bool stamped = true;                // records carry seq, time and caller; else text only
  std::optional<MessageBuffer> ring;     // a byte ring's place, when the log is one
  std::vector<std::string> problems;  // records that could not be read, and why

  // The text of every record, one entry per line.
  std::vector<std::string> lines() const;
  // The same lines as a console prints them, each with the CPU or task that printed it (when the
  // records are stamped), for console::read_console.
  std::vector<console::ConsoleLine> console_lines() const;
};

}  // namespace coroner
