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

}  // namespace coroner
