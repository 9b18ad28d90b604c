#include "coroner/os/model/model_log.hpp"

#include <cstring>
#include <optional>
#include <regex>

#include "coroner/format.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::os_model {
namespace {

constexpr uint64_t kMaxLogBytes = 64ull << 20;

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Linux 2.6 wrote each line's level into the buffer: "<4>EXT4-fs ...".
void drop_levels(std::vector<std::string>& lines) {
  for (auto& l : lines) {
    if (l.size() >= 3 && l[0] == '<' && l[1] >= '0' && l[1] <= '7' && l[2] == '>') l.erase(0, 3);
  }
}

// Oldest first: from the write position to the end, then from the start; NULs were never written.
std::vector<std::string> byte_ring_lines(const std::vector<uint8_t>& bytes, uint64_t write_position) {
  std::string text;
  text.reserve(bytes.size());
  for (uint64_t i = 0; i < bytes.size(); ++i) {
    char c = static_cast<char>(bytes[(write_position + i) % bytes.size()]);
    if (c != '\0') text.push_back(c);
  }
  return split_lines(text);
}

// struct printk_log's layout, from the debug info.
struct RecordLayout {
  uint64_t size = 0, ts_nsec = 0, len = 0, text_len = 0;
};

Result<RecordLayout> record_layout(TypedMemory& objects, const std::string& type_name) {
  auto found = objects.debug().find_type(type_name);
  if (!found) return make_error("the log's record type `" + type_name + "` is not in the debug info");
  const Type* t = strip_typedefs(*found);
  RecordLayout L;
  L.size = t->size;
  for (auto [member, out] : {std::pair{"ts_nsec", &L.ts_nsec}, std::pair{"len", &L.len}, std::pair{"text_len", &L.text_len}}) {
    auto m = objects.debug().find_member(t, member);
    if (!m) return make_error("the log's record type `" + type_name + "` has no member `" + member + "`");
    *out = m->offset;
  }
  return L;
}

uint64_t little_endian(const std::vector<uint8_t>& bytes, uint64_t at, size_t width) {
  uint64_t v = 0;
  std::memcpy(&v, bytes.data() + at, width);
  return v;
}

// Records from `first` to `next`, each "[seconds.micros] text" as dmesg prints them; a record of
// length 0 (or none left before the end) means the next one is at the buffer's start.
Result<std::vector<std::string>> record_ring_lines(const std::vector<uint8_t>& bytes, const RecordLayout& L, uint64_t first,
                                                   uint64_t next) {
  std::vector<std::string> lines;
  uint64_t at = first;
  for (size_t n = 0; at != next && n < bytes.size(); ++n) {
    if (at + L.size > bytes.size() || little_endian(bytes, at + L.len, 2) == 0) {
      if (at == 0) return make_error("the log's record at offset 0 is empty");
      at = 0;
      continue;
    }
    uint64_t len = little_endian(bytes, at + L.len, 2), text_len = little_endian(bytes, at + L.text_len, 2);
    if (at + len > bytes.size() || L.size + text_len > len) {
      return make_error("the log's record at offset " + std::to_string(at) + " claims " + std::to_string(len) +
                        " bytes, past the buffer's " + std::to_string(bytes.size()) + " (the log is cut there)");
    }
    uint64_t ts = little_endian(bytes, at + L.ts_nsec, 8);
    char stamp[40];
    std::snprintf(stamp, sizeof stamp, "[%5llu.%06llu] ", static_cast<unsigned long long>(ts / 1000000000),
                  static_cast<unsigned long long>(ts % 1000000000 / 1000));
    std::string text(reinterpret_cast<const char*>(bytes.data() + at + L.size), text_len);
    for (auto& line : split_lines(text)) lines.push_back(stamp + line);
    at += len;
  }
  return lines;
}

}  // namespace

Result<KernelLog> read_log(TypedMemory& objects, const OsModel& m) {
  if (!m.log) {
    return make_error("the " + m.os + " model (" + m.file + ") has no `log`: coroner cannot read this kernel's messages yet "
                      "(`coroner info` shows the panic string)");
  }
  MessageBuffer ring;
  std::vector<std::string> lines;
  auto buffer = evaluate_integer(objects, m.log->buffer);
  auto size = evaluate_integer(objects, m.log->size);
  if (!buffer) return make_error("message buffer (" + m.log->buffer + "): " + buffer.error().message);
  if (!size) return make_error("message buffer size (" + m.log->size + "): " + size.error().message);
  if (*size == 0 || *size > kMaxLogBytes) {
    return make_error("message buffer at " + hex(*buffer) + " claims " + std::to_string(*size) +
                      " bytes: not a size this dump can be trusted with (at most 64 MiB)");
  }
  ring.buffer = *buffer;
  ring.size = *size;
  std::vector<uint8_t> bytes(*size);
  if (auto st = objects.kernel().read(*buffer, bytes); !st) {
    return make_error("message buffer at " + hex(*buffer) + " (" + std::to_string(*size) + " bytes): " + st.error().message);
  }
  if (m.log->record.empty()) {
    auto write = evaluate_integer(objects, m.log->write);
    if (!write) return make_error("message buffer write position (" + m.log->write + "): " + write.error().message);
    ring.write_position = *write % *size;
    lines = byte_ring_lines(bytes, ring.write_position);
  } else {
    auto layout = record_layout(objects, m.log->record);
    if (!layout) return layout.error();
    auto first = evaluate_integer(objects, m.log->first);
    auto next = evaluate_integer(objects, m.log->next);
    if (!first) return make_error("the oldest record's offset (" + m.log->first + "): " + first.error().message);
    if (!next) return make_error("the next record's offset (" + m.log->next + "): " + next.error().message);
    if (*first >= *size || *next > *size) {
      return make_error("the log's records run from offset " + std::to_string(*first) + " to " + std::to_string(*next) +
                        ", outside its " + std::to_string(*size) + " bytes at " + hex(*buffer));
    }
    ring.write_position = *next;
    auto records = record_ring_lines(bytes, *layout, *first, *next);
    if (!records) return make_error("message buffer at " + hex(*buffer) + ": " + records.error().message);
    lines = std::move(*records);
  }
  if (m.log->levels) drop_levels(lines);
  KernelLog log;
  log.stamped = false;
  log.ring = ring;
  for (auto& line : lines) log.records.push_back({0, 0, 0, std::move(line)});
  return log;
}

std::vector<std::string> panic_from_log(TypedMemory& objects, const OsModel& m, const Result<KernelLog>* log,
                                        std::vector<std::string>& problems) {
  if (m.panic_log.empty() || !m.log) return {};
  std::optional<Result<KernelLog>> read;
  if (!log) log = &read.emplace(read_log(objects, m));
  if (!*log) {
    problems.push_back("message buffer: " + (*log).error().message);
    return {};
  }
  return panic_from_log(m, (*log)->lines());
}

std::vector<std::string> panic_from_log(const OsModel& m, const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& pattern : m.panic_log) {
    std::regex re;
    try {
      re = std::regex(pattern);
    } catch (const std::regex_error&) {
      continue;  // the shipped models' patterns are tested; a bad one finds nothing
    }
    for (const auto& line : lines) {
      std::smatch match;
      if (!std::regex_search(line, match, re)) continue;
      out.push_back(match.size() > 1 ? match[1].str() : match[0].str());
      break;
    }
  }
  return out;
}

}  // namespace coroner::os_model
