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

struct StackReference {
  const Task* task = nullptr;
  uint64_t value = 0;
  std::optional<uint64_t> location;  // the stack address; empty for a register
  std::string reg;                   // the register's name, for a register hit
  std::string stack;                 // "task", "IRQ", "NMI", ...
  std::optional<Frame> frame;        // the frame whose range holds the location
  std::string place;                 // in words: "frame #2 pipe_read+0x3df/0x470", "below the stack pointer"
  StackSlot slot = StackSlot::outside_frames;  // for a stack hit: live, dead, ...
};

// Where a stack address sits relative to a task's backtrace.
struct StackPlace {
  std::optional<Frame> frame;
  std::string text;
  StackSlot slot = StackSlot::outside_frames;
  bool dead() const { return slot == StackSlot::below_stack_pointer; }
};
StackPlace place_on_stack(const Backtrace& bt, const Task& task, uint64_t location);

// What a stack word or register must hold to be reported.
using ValueMatch = std::function<bool(uint64_t)>;
Result<std::vector<StackReference>> find_stack_references(LinuxView& view, const ValueMatch& match);
// Values inside [low, high).
Result<std::vector<StackReference>> find_stack_references(LinuxView& view, uint64_t low, uint64_t high);

}  // namespace coroner::linux_kernel
