#pragma once
// Where a word of a thread's stack sits relative to its unwound frames: what decides whether a
// pointer found there is one the thread still holds (a live frame) or a stale value (a dead one).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "coroner/target/frame.hpp"
#include "coroner/target/thread.hpp"

namespace coroner {

enum class StackSlot {
  live_frame,           // inside a frame of the backtrace
  switch_frame,         // the registers a sleeping thread's context switch saved
  below_stack_pointer,  // a frame that returned, or stack not yet used
  outside_frames,       // above the stack pointer but in no unwound frame
};

// A slot's place and its words: "frame #2 pipe_read+0x3df/0x470", "below the stack pointer (...)".
struct SlotPlace {
  SlotPlace() = default;
  SlotPlace(StackSlot s, std::string words, std::optional<Frame> in = std::nullopt)
      : slot(s), text(std::move(words)), frame(std::move(in)) {}
  StackSlot slot = StackSlot::outside_frames;
  std::string text;
  std::optional<Frame> frame;  // the live frame that holds the slot
  bool dead() const { return slot == StackSlot::below_stack_pointer; }
};

// A word on a thread's stack, or a register of a thread on a CPU, holding a value searched for
// (mdb's ::whatthread, crash's search -t).
struct StackReference {
  const Thread* thread = nullptr;
  uint64_t value = 0;
  std::optional<uint64_t> location;  // the stack address; empty for a register
  std::string reg;                   // a register hit's name
  std::string stack;                 // the kind of stack: "task", "IRQ", "thread", ...
  SlotPlace place;                   // a register hit's text is "register rax"
};

// The words for the places that are not a frame.
inline const char* kBelowStackPointerText = "below the stack pointer (a dead frame, or not yet used)";
inline const char* kOutsideFramesText = "outside every unwound frame";

}  // namespace coroner
