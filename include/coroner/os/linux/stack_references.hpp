#pragma once
// Which threads hold a value: every word of every task's stacks (its own, and the IRQ and
// exception stacks of the CPU it runs on) and the registers of tasks on a CPU, matched against
// [low, high); each hit placed in the frame that holds it. mdb's ::whatthread, crash's search -t.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "coroner/os/linux/linux_view.hpp"
#include "coroner/target/stack_slot.hpp"

namespace coroner::linux_kernel {

// Where a stack address sits relative to a task's backtrace.
SlotPlace place_on_stack(const Backtrace& bt, const Task& task, uint64_t location);

// What a stack word or register must hold to be reported.
using ValueMatch = std::function<bool(uint64_t)>;
Result<std::vector<StackReference>> find_stack_references(LinuxView& view, const ValueMatch& match);
// Values inside [low, high).
Result<std::vector<StackReference>> find_stack_references(LinuxView& view, uint64_t low, uint64_t high);

}  // namespace coroner::linux_kernel
