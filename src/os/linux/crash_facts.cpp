#include "coroner/os/linux/crash_facts.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <regex>
#include <set>

#include "coroner/format.hpp"
#include "coroner/rules/crash_signature.hpp"
#include "coroner/rules/object_fields.hpp"
#include "coroner/rules/object_index.hpp"
#include "coroner/os/linux/memory_map.hpp"
#include "coroner/os/linux/stack_references.hpp"
#include "coroner/os/linux/whatis.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::linux_kernel {
namespace {

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

constexpr size_t kMaxObjects = 64;
constexpr size_t kMaxStackWords = 4096;
// pt_regs slots of the general registers, the argument registers first (di, si, dx, cx, r8, r9):
// an object several registers point to is named after the first, most often what a call was given.
constexpr int kRegistersArgumentsFirst[] = {14, 13, 12, 11, 9, 8, 10, 5, 4, 3, 2, 1, 0, 7, 6};

// The objects the crashing thread was working on: what its exception registers and stack slots
// point to (slab objects, and addresses on other threads' stacks), the fault's own objects, and
// which threads hold each of them.
class ObjectGatherer {
 public:
  ObjectGatherer(LinuxView& view, Slub* slub, const PoisonCatalog& poison, rules::Facts& facts,
                 const std::map<const Task*, size_t>& thread_of)
      : view_(view), slub_(slub), poison_(poison), facts_(facts), thread_of_(thread_of),
        map_(slub ? slub->memory() : MemoryMap::read(view.objects())) {}

  void add_slab(const SlabObject& o, uint64_t address, const std::string& found_as) {
    if (!o.cache || o.part != "object") return;
    uint64_t start = o.object ? o.object : address;
    if (seen_.contains(start) || facts_.objects.size() >= kMaxObjects) return;
    seen_.insert(start);
    rules::ObjectFacts f;
    f.address = start;
    f.cache = o.cache->name;
    f.found_as = found_as;
    f.free = o.free;
    f.place = rules::ObjectPlace::slab;
    if (view_.objects().debug().find_type("struct " + o.cache->name)) {
      f.type = "struct " + o.cache->name;
      f.field = rules::object_field_reader(view_.objects(), poison_, "linux", f.type, start);
    }
    by_address_.add(facts_.objects.size(), start, o.cache->object_size ? o.cache->object_size : 8);
    facts_.objects.push_back(std::move(f));
  }

  // A stack address counts only from registers: stack slots hold too many stale ones.
  void add_value(uint64_t value, const std::string& found_as, const Task* crashing, bool from_register) {
    if (value < 0xffff800000000000ull || facts_.objects.size() >= kMaxObjects) return;
    if (map_.direct_map_pfn(value)) {
      if (!slub_) return;
      auto o = slub_->object_at(value);
      if (o && *o) add_slab(**o, value, found_as);
      return;
    }
    if (!from_register || !map_.in_vmalloc(value)) return;
    WhatIs w = what_is(view_, slub_, value);
    if (w.kind != AddressKind::task_stack || !w.task || w.task == crashing || seen_.contains(value)) return;
    seen_.insert(value);
    rules::ObjectFacts f;
    f.address = value;
    f.found_as = found_as;
    f.place = rules::ObjectPlace::stack;
    std::string place = w.stack_place ? w.stack_place->text : "";
    f.dead_frame = w.stack_place && !w.stack_place->frame && place.starts_with("below the stack pointer");
    f.found_as += "; on the stack of pid " + std::to_string(w.task->pid) + " (" + w.task->comm + "), " + place;
    if (auto t = thread_of_.find(w.task); t != thread_of_.end()) f.holders.push_back({t->second, "on its own stack, " + place});
    facts_.objects.push_back(std::move(f));
  }

  // Every register of every pt_regs on the crashing stack, and every word of its frames.
  void add_crashing_thread(const Backtrace& bt, const Task* crashing) {
    for (const Frame& f : bt.frames) {
      if (!f.regs || user_mode(*f.regs)) continue;
      for (int r : kRegistersArgumentsFirst) {
        add_value((*f.regs)[r], std::string("register ") + pt_regs_name(r) + " of the exception at frame #" +
                                    std::to_string(f.level) + " " + f.where.function, crashing, true);
      }
    }
    size_t words = 0;
    for (const Frame& f : bt.frames) {
      if (!f.reliable || f.caller_sp <= f.sp || f.caller_sp - f.sp > 0x4000) continue;
      ObjectBytes bytes = view_.objects().read_object(f.sp, f.caller_sp - f.sp);
      for (uint64_t off = 0; off + 8 <= bytes.data.size() && words < kMaxStackWords; off += 8, ++words) {
        if (!bytes.readable(off, 8)) continue;
        uint64_t v;
        std::memcpy(&v, bytes.data.data() + off, 8);
        add_value(v, "stack slot " + hex(f.sp + off) + " in frame #" + std::to_string(f.level) + " " + f.where.function,
                  crashing, false);
      }
    }
  }

  // One pass over every stack: the threads whose live frames or registers point into a slab object.
  void find_holders() {
    if (by_address_.empty()) return;
    auto refs = find_stack_references(view_, [&](uint64_t v) { return by_address_.find(v).has_value(); });
    if (!refs) return;
    for (const StackReference& r : *refs) {
      if (r.location && !r.frame && r.place.starts_with("below the stack pointer")) continue;  // a dead slot holds nothing
      auto t = thread_of_.find(r.task);
      auto object = by_address_.find(r.value);
      if (t == thread_of_.end() || !object) continue;
      rules::add_holder(facts_.objects[*object], t->second, r.location ? "stack slot " + hex(*r.location) + ", " + r.place : r.place);
    }
  }

 private:
  LinuxView& view_;
  Slub* slub_;
  const PoisonCatalog& poison_;
  rules::Facts& facts_;
  const std::map<const Task*, size_t>& thread_of_;
  MemoryMap map_;
  std::set<uint64_t> seen_;
  rules::ObjectIndex by_address_;  // the slab objects
};

constexpr size_t kMaxThreadsOfInterest = 16;
constexpr size_t kFunctionsShown = 8;

std::vector<ThreadOfInterest> threads_of_interest(const rules::Facts& facts, const std::vector<const Task*>& tasks) {
  std::vector<ThreadOfInterest> out;
  std::set<size_t> listed;
  auto add = [&](size_t i, const std::string& why) {
    if (static_cast<int>(i) == facts.crashing || out.size() >= kMaxThreadsOfInterest || !listed.insert(i).second) return;
    const auto& f = facts.threads[i].functions;
    out.push_back({tasks[i], why, {f.begin(), f.begin() + static_cast<long>(std::min(f.size(), kFunctionsShown))}});
  };
  for (const auto& o : facts.objects) {
    if (o.place == rules::ObjectPlace::slab && !o.free) continue;
    std::string what = o.place == rules::ObjectPlace::stack ? "has on its stack the address " + hex(o.address) + " the crashing thread used"
                                                            : "holds freed " + o.cache + " object " + hex(o.address);
    for (const auto& h : o.holders) add(h.thread, what + " (" + h.where + ")");
  }
  for (size_t i = 0; i < facts.threads.size(); ++i) {
    if (facts.threads[i].state == 'D') add(i, "in uninterruptible sleep (D)");
  }
  return out;
}

}  // namespace

CrashAnalysis analyze_crash(LinuxView& view, Slub* slub, const PoisonCatalog& poison, const KernelLog* log,
                            const StepReporter& step) {
  auto at = [&](std::string_view what) {
    if (step) step(what);
  };
  CrashAnalysis a;
  at("reading the task list");
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
  std::map<const Task*, size_t> thread_of;
  std::vector<const Task*> task_of;
  at("unwinding " + std::to_string(list.tasks.size()) + " threads");
  for (const Task& t : list.tasks) {
    auto bt = view.backtrace(t);
    if (!bt) continue;
    if (&t == a.crashing) {
      a.facts.crashing = static_cast<int>(a.facts.threads.size());
      a.crashing_bt = *bt;
    }
    thread_of[&t] = a.facts.threads.size();
    task_of.push_back(&t);
    a.facts.threads.push_back({t.pid, t.tgid, t.comm, functions_of(*bt), t.state});
  }
  ObjectGatherer objects(view, slub, poison, a.facts, thread_of);
  at("explaining the fault");
  if (a.crashing_bt) a.fault = explain_fault(view, slub, poison, *a.crashing_bt);
  if (a.fault && a.fault->faulting) {
    rules::FaultFacts f;
    f.address_kind = a.fault->address_meaning.kind;
    if (f.address_kind == "poison") f.pattern = pattern_name(a.fault->address_meaning.text);
    f.instruction = a.fault->faulting->text();
    f.member = a.fault->chain.empty() ? a.fault->member : a.fault->chain.front().member;
    f.address = a.fault->address;
    a.facts.fault = f;
    if (a.fault->address && a.fault->address_meaning.slab) {
      objects.add_slab(*a.fault->address_meaning.slab, *a.fault->address, "the faulting address");
    }
    for (const Provenance& p : a.fault->chain) {
      if (p.address && p.address_meaning.slab) {
        objects.add_slab(*p.address_meaning.slab, *p.address, p.reg + " was loaded from it by `" + p.instruction.text() + "`");
      }
    }
  }
  at("following the objects the crashing thread used");
  if (a.crashing_bt) objects.add_crashing_thread(*a.crashing_bt, a.crashing);
  at("finding the threads that hold them");
  objects.find_holders();
  a.other_threads = threads_of_interest(a.facts, task_of);
  return a;
}

std::string crash_signature(const CrashAnalysis& a) {
  std::string cause = a.summary.panic_cause.value.value_or(a.summary.panic_message.value.value_or(""));
  std::vector<std::string> functions;
  if (a.facts.crashing >= 0) functions = a.facts.threads[static_cast<size_t>(a.facts.crashing)].functions;
  return rules::crash_signature(cause, functions, rules::linux_crash_machinery());
}

}  // namespace coroner::linux_kernel
