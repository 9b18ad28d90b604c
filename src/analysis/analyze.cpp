#include "coroner/analysis/analyze.hpp"

#include "coroner/analysis/linux_facts.hpp"
#include "coroner/analysis/model_facts.hpp"

namespace coroner::analysis {

CrashAnalysis analyze(Target& target, const StepReporter& step) {
  if (target.model) return analyze_model_crash(*target.objects, *target.model, target.poison, step);
  if (step) step("reading the kernel log");
  std::optional<KernelLog> log;
  if (auto read = target.log()) log.emplace(std::move(*read));
  if (step) step("reading the slab allocator");
  CrashAnalysis a = analyze_crash(*target.view, target.slub(), target.poison, log ? &*log : nullptr, step);
  a.log = std::move(log);
  return a;
}

}  // namespace coroner::analysis
