#include "coroner/os/model/model_log.hpp"

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

}  // namespace

Result<ModelLog> read_log(Objects& objects, const OsModel& m) {
  if (!m.log) {
    return make_error("the " + m.os + " model (" + m.file + ") has no `log`: coroner cannot read this kernel's messages yet "
                      "(`coroner info` shows the panic string)");
  }
  ModelLog log;
  auto buffer = evaluate_integer(objects, m.log->buffer);
  auto size = evaluate_integer(objects, m.log->size);
  auto write = evaluate_integer(objects, m.log->write);
  if (!buffer) return make_error("message buffer (" + m.log->buffer + "): " + buffer.error().message);
  if (!size) return make_error("message buffer size (" + m.log->size + "): " + size.error().message);
  if (!write) return make_error("message buffer write position (" + m.log->write + "): " + write.error().message);
  if (*size == 0 || *size > kMaxLogBytes) {
    return make_error("message buffer at " + hex(*buffer) + " claims " + std::to_string(*size) +
                      " bytes: not a size this dump can be trusted with (at most 64 MiB)");
  }
  log.buffer = *buffer;
  log.size = *size;
  log.write_position = *write % *size;
  std::vector<uint8_t> bytes(*size);
  if (auto st = objects.kernel().read(*buffer, bytes); !st) {
    return make_error("message buffer at " + hex(*buffer) + " (" + std::to_string(*size) + " bytes): " + st.error().message);
  }
  // Oldest first: from the write position to the end, then from the start; NULs were never written.
  std::string text;
  text.reserve(bytes.size());
  for (uint64_t i = 0; i < *size; ++i) {
    char c = static_cast<char>(bytes[(log.write_position + i) % *size]);
    if (c != '\0') text.push_back(c);
  }
  log.lines = split_lines(text);
  return log;
}

}  // namespace coroner::os_model
