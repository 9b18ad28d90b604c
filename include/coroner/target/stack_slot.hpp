#pragma once
// Where a word of a thread's stack sits relative to its unwound frames: what decides whether a
// pointer found there is one the thread still holds (a live frame) or a stale value (a dead one).
#include <string>

namespace coroner {

enum class StackSlot {
  live_frame,           // inside a frame of the backtrace
  switch_frame,         // the registers a sleeping thread's context switch saved
  below_stack_pointer,  // a frame that returned, or stack not yet used
  outside_frames,       // above the stack pointer but in no unwound frame
};

// A slot's place and its words: "frame #2 pipe_read+0x3df/0x470", "below the stack pointer (...)".
struct SlotPlace {
  StackSlot slot = StackSlot::outside_frames;
  std::string text;
  bool dead() const { return slot == StackSlot::below_stack_pointer; }
};

// The words for the places that are not a frame.
inline const char* kBelowStackPointerText = "below the stack pointer (a dead frame, or not yet used)";
inline const char* kOutsideFramesText = "outside every unwound frame";

}  // namespace coroner
