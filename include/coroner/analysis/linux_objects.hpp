#pragma once
// The objects the crashing thread was working on, for the rules: what its exception registers and
// stack slots point to (slab objects, and addresses on other threads' stacks), the fault's own
// objects, what those objects point to in turn (one and two pointers away), and which threads hold
// each. A slab object freed and allocated again carries both lives from SLUB's tracks.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "coroner/os/linux/fault.hpp"
#include "coroner/os/linux/memory_map.hpp"
#include "coroner/analysis/object_index.hpp"
#include "coroner/rules/rule_engine.hpp"

namespace coroner::analysis {

// Linux's structures, which the gatherer reads.
using linux_kernel::FaultExplanation;
using linux_kernel::LinuxView;
using linux_kernel::MemoryMap;
using linux_kernel::PtRegs;
using linux_kernel::SlabObject;
using linux_kernel::Slub;
using linux_kernel::Task;

class ObjectGatherer {
 public:
  ObjectGatherer(LinuxView& view, Slub* slub, const PoisonCatalog& poison, rules::Facts& facts,
                 const std::map<const Task*, size_t>& thread_of);

  // A slab object found at `address` (`found_as` says how), `pointers` pointers away from what the
  // crashing thread used; `operand` when the faulting access or the failed check touched it.
  void add_slab(const SlabObject& o, uint64_t address, const std::string& found_as, int pointers = 0,
                bool operand = false);
  // Every register of every pt_regs on the crashing stack (and of the fault's, when they were the
  // CPU's own in the dump), and every word of its frames.
  void add_crashing_thread(const Backtrace& bt, const Task* crashing, const FaultExplanation* fault);
  // What the slab objects found so far point to, up to `hops` pointers away: each object's
  // pointer-typed members first, then its other words.
  void follow_pointers(int hops, const Task* crashing);
  // One pass over every stack: the threads whose live frames or registers point into a slab object.
  void find_holders();

 private:
  struct Found {
    std::string how;
    int pointers = 0;
    bool stack_allowed = false;  // a stack address counts from registers and objects' fields only
  };
  void add_value(uint64_t value, const Found& found, const Task* crashing);
  void add_registers(const PtRegs& regs, const Frame& f, const Task* crashing);
  void follow(size_t object, int hop, const Task* crashing);
  std::optional<rules::Reallocation> reallocation(const SlabObject& o);
  std::optional<double> age(uint64_t when) const;

  LinuxView& view_;
  Slub* slub_;
  const PoisonCatalog& poison_;
  rules::Facts& facts_;
  const std::map<const Task*, size_t>& thread_of_;
  MemoryMap map_;
  std::set<uint64_t> seen_;
  ObjectIndex by_address_;  // the slab objects
  std::map<size_t, uint64_t> object_size_;  // each slab object's cache's object size, by its index in the facts
  std::optional<uint64_t> jiffies_;
  double seconds_per_jiffy_ = 0;   // from tick_nsec; 0 when unknown
};

}  // namespace coroner::analysis
