#include "coroner/os/model/model_summary.hpp"

#include "coroner/os/model/model_log.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::os_model {
namespace {

// The text an expression names, with the expression as its source; a failure becomes a warning.
linux_kernel::Sourced<std::string> text_fact(TypedMemory& objects, const std::string& expression, const char* what,
                                             std::vector<std::string>& warnings) {
  linux_kernel::Sourced<std::string> out;
  if (expression.empty()) return out;
  auto t = evaluate_text(objects, expression);
  if (!t) {
    warnings.push_back(std::string(what) + " (" + expression + "): " + t.error().message);
    return out;
  }
  std::string s = *t;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (!s.empty()) out = {s, expression};
  return out;
}

}  // namespace

ModelPanic read_panic(TypedMemory& objects, const OsModel& m, const Result<KernelLog>* log, std::vector<std::string>& problems) {
  ModelPanic out;
  out.message = text_fact(objects, m.panic_message, "panic message", problems);
  auto found = panic_from_log(objects, m, log, problems);
  if (!out.message.value && !found.empty()) out.message = {found.front(), "the log"};
  if (found.size() > 1) out.cause = {found[1], "the log"};
  return out;
}

linux_kernel::KernelSummary summarize_model(TypedMemory& objects, const OsModel& m, const Result<KernelLog>* log) {
  linux_kernel::KernelSummary s;
  s.os = m.os;
  s.dump_memory_bytes = objects.kernel().dump().physical_memory_size();
  s.release = text_fact(objects, m.release, "release", s.warnings);
  s.version = text_fact(objects, m.version, "version", s.warnings);
  auto panic = read_panic(objects, m, log, s.warnings);
  s.panic_message = panic.message;
  s.panic_cause = panic.cause;
  if (!m.panic_cpu.empty()) {
    if (auto n = evaluate_integer(objects, m.panic_cpu); n && *n < 65536) s.crashing_cpu = {static_cast<int>(*n), m.panic_cpu};
    else s.warnings.push_back("crashing CPU (" + m.panic_cpu + "): " + (n ? "implausible value " + std::to_string(*n) : n.error().message));
  }
  if (!m.cpus.empty()) {
    if (auto n = evaluate_integer(objects, m.cpus); n && *n > 0 && *n < 65536) {
      s.cpus = {static_cast<int>(*n), m.cpus};
    } else {
      s.warnings.push_back("cpus (" + m.cpus + "): " + (n ? "implausible value " + std::to_string(*n) : n.error().message));
    }
  }
  return s;
}

}  // namespace coroner::os_model
