#pragma once
// The objects the crashing thread was working on, for the rules, gathered the same way on every
// kernel: the fault's own objects; what the crash's registers and the crashing frames' slots point
// to (allocator objects, and addresses on other threads' stacks, or in its own dead frames when it
// crashed on an interrupt stack); the
// addresses the panic message names; the structures the crashing frames' pointer variables point
// to; what the allocator objects point to in turn; and which threads hold each.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coroner/analysis/object_index.hpp"
#include "coroner/os/target.hpp"
#include "coroner/rules/rule_engine.hpp"

namespace coroner::analysis {

class CrashObjects {
 public:
  // `backtraces`: one per thread of `threads`, in order; `crashing`: the crashing thread's index.
  // All must outlive the gatherer, and `target` the facts (their field readers read through it).
  CrashObjects(Target& target, const ThreadList& threads, const std::vector<Backtrace>& backtraces, size_t crashing,
               rules::Facts& facts);

  // The faulting address's object, those its pointer was loaded from, and what a failed check read.
  void add_fault(const linux_kernel::FaultExplanation& fault);
  // Every register of every exception frame on the crashing stack and of the fault's own; where
  // the backtrace has none, the crashing thread's registers at the crash.
  void add_registers(const linux_kernel::FaultExplanation* fault);
  // Addresses the panic message names ("backing_object 0xfffff800534a1600 was ..."): untyped
  // until a rule reads them `as` a type.
  void add_named(const std::string& panic_message);
  // The allocator objects the crashing frames' stack slots point to.
  void add_stack_words();
  // Each crashing frame's words and pointer variables (the facts' crashing_frames), and the
  // structures those variables point to, typed by the debug info.
  void add_frames();
  // What the allocator objects found so far point to, up to `hops` pointers away: each object's
  // pointer-typed members first, then its other words.
  void follow_pointers(int hops);
  // One pass over every stack: the threads whose live frames or registers point into an object.
  void find_holders();

 private:
  struct Found {
    std::string how;
    int pointers = 0;
    bool stack_allowed = false;  // a stack address counts from registers and objects' fields only
    bool operand = false;
  };
  void add_value(uint64_t value, const Found& found);
  bool add_allocation(uint64_t value, const Found& found);
  void add_stack_address(uint64_t value, const Found& found);
  void add_registers_of(const x86_64::PtRegs& regs, const Frame& frame);
  void follow(size_t object, int hop);
  bool crashed_on_own_stack() const;
  std::optional<rules::Reallocation> reallocation(const Allocation& a);
  rules::FieldReader reader(const std::string& type, uint64_t address);
  std::string type_of_cache(const std::string& cache);

  Target& target_;
  const ThreadList& threads_;
  const std::vector<Backtrace>& backtraces_;
  size_t crashing_;
  rules::Facts& facts_;
  std::set<uint64_t> seen_;
  ObjectIndex stacks_;                       // every thread's own stack, by thread index
  std::vector<std::optional<uint64_t>> size_;  // each object's allocation size, by its index in the facts
};

}  // namespace coroner::analysis
