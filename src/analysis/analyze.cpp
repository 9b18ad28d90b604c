#include "coroner/analysis/analyze.hpp"

#include "coroner/analysis/crash_signature.hpp"
#include "coroner/analysis/linux_facts.hpp"
#include "coroner/analysis/model_facts.hpp"

namespace coroner::analysis {

namespace {

// The crash's name: its cause and the crashing thread's innermost functions past the kernel's
// crash machinery.
std::string signature(const Target& target, const CrashAnalysis& a) {
  std::string cause = a.summary.panic_cause.value.value_or(a.summary.panic_message.value.value_or(""));
  std::vector<std::string> functions;
  if (a.facts.crashing >= 0) functions = a.facts.threads[static_cast<size_t>(a.facts.crashing)].functions;
  return crash_signature(cause, functions, target.crash_machinery());
}

CrashAnalysis gather(Target& target, const StepReporter& step) {
  if (target.model) return analyze_model_crash(*target.objects, *target.model, target.poison, step);
  if (step) step("reading the kernel log");
  std::optional<KernelLog> log;
  if (auto read = target.log()) log.emplace(std::move(*read));
  if (step) step("reading the slab allocator");
  CrashAnalysis a = analyze_crash(*target.view, target.slub(), target.poison, log ? &*log : nullptr, step);
  a.log = std::move(log);
  return a;
}

}  // namespace

CrashAnalysis analyze(Target& target, const StepReporter& step) {
  CrashAnalysis a = gather(target, step);
  a.signature = signature(target, a);
  return a;
}

}  // namespace coroner::analysis
