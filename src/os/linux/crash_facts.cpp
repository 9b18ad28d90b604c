#include "coroner/os/linux/crash_facts.hpp"

#include <regex>

#include "coroner/format.hpp"

namespace coroner::linux_kernel {
namespace {

constexpr size_t kSignatureFrames = 5;

std::vector<std::string> functions_of(const Backtrace& bt) {
  std::vector<std::string> out;
  for (const Frame& f : bt.frames) {
    if (f.reliable && !f.where.function.empty()) out.push_back(f.where.function);
  }
  return out;
}

// "POISON_FREE + 0x8: freed slab object..." -> "POISON_FREE"
std::string pattern_name(const std::string& meaning) {
  size_t end = meaning.find_first_of(" :");
  return meaning.substr(0, end);
}

void add_object(rules::Facts& facts, const ValueMeaning& m, uint64_t address, const std::string& found_as) {
  if (!m.slab || !m.slab->cache) return;
  facts.objects.push_back({m.slab->object ? m.slab->object : address, m.slab->cache->name, found_as, m.slab->free});
}

}  // namespace

CrashAnalysis analyze_crash(LinuxView& view, Slub* slub, const PoisonCatalog& poison, const KernelLog* log) {
  CrashAnalysis a;
  const Kernel& k = view.objects().kernel();
  a.summary = summarize(k, log);
  if (a.summary.panic_message.value) a.facts.panic.push_back(*a.summary.panic_message.value);
  if (a.summary.panic_cause.value) a.facts.panic.push_back(*a.summary.panic_cause.value);
  if (log) {
    for (const auto& r : log->records) a.facts.log.push_back(r.text);
  }
  auto tasks = view.tasks();
  if (!tasks) {
    a.problems.push_back("tasks: " + tasks.error().message);
    return a;
  }
  const TaskList& list = **tasks;
  if (list.panic_cpu) a.crashing = list.active_on(*list.panic_cpu);
  for (const Task& t : list.tasks) {
    auto bt = view.backtrace(t);
    if (!bt) continue;
    if (&t == a.crashing) {
      a.facts.crashing = static_cast<int>(a.facts.threads.size());
      a.crashing_bt = *bt;
    }
    a.facts.threads.push_back({t.pid, t.tgid, t.comm, functions_of(*bt)});
  }
  if (a.crashing_bt) a.fault = explain_fault(view, slub, poison, *a.crashing_bt);
  if (a.fault && a.fault->faulting) {
    rules::FaultFacts f;
    f.address_kind = a.fault->address_meaning.kind;
    if (f.address_kind == "poison") f.pattern = pattern_name(a.fault->address_meaning.text);
    f.instruction = a.fault->faulting->text();
    f.member = a.fault->chain.empty() ? a.fault->member : a.fault->chain.front().member;
    f.address = a.fault->address;
    a.facts.fault = f;
    if (a.fault->address) add_object(a.facts, a.fault->address_meaning, *a.fault->address, "the faulting address");
    for (const Provenance& p : a.fault->chain) {
      if (p.address) add_object(a.facts, p.address_meaning, *p.address, p.reg + " was loaded from it by `" + p.instruction.text() + "`");
    }
  }
  return a;
}

std::string crash_signature(const CrashAnalysis& a) {
  std::string cause = a.summary.panic_cause.value.value_or(a.summary.panic_message.value.value_or(""));
  static const std::regex kNumbers(R"(0x[0-9a-fA-F]+|\b[0-9a-fA-F]{8,}\b|\b\d+\b)");
  cause = std::regex_replace(cause, kNumbers, "N");
  std::string s = cause;
  if (a.facts.crashing >= 0) {
    const auto& functions = a.facts.threads[static_cast<size_t>(a.facts.crashing)].functions;
    // From the fault (or panic) on: the frames below are the crash machinery, the same every time.
    size_t from = 0;
    for (size_t i = 0; i < functions.size(); ++i) {
      if (functions[i].starts_with("asm_exc_") || functions[i] == "panic") from = i + 1;
    }
    for (size_t i = from, n = 0; i < functions.size() && n < kSignatureFrames; ++i, ++n) s += " | " + functions[i];
  }
  uint64_t h = 0xcbf29ce484222325;  // FNV-1a: stable across builds and machines
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3;
  return hex_padded(h) + " " + s;
}

}  // namespace coroner::linux_kernel
