#pragma once
// A frame of a backtrace and the backtrace, as the unwinder (target/unwinder.hpp) finds them on
// any kernel.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/arch/x86_64_registers.hpp"
#include "coroner/target/code_location.hpp"

namespace coroner {

enum class FrameSource { registers, orc, call_frame_info, call_site, frame_pointer, stack_scan };
const char* frame_source_name(FrameSource s);

struct Frame {
  int level = 0;
  uint64_t pc = 0;
  uint64_t sp = 0;         // the stack pointer while `pc` runs: the frame's lowest address
  uint64_t caller_sp = 0;  // the caller's stack pointer: the frame is [sp, caller_sp)
  uint64_t bp = 0;         // the frame pointer register while `pc` runs
  std::string stack;       // the kind of the stack sp is on ("" when on none known)
  FrameSource source = FrameSource::orc;
  bool reliable = true;
  std::optional<uint64_t> regs_address;  // the pt_regs this frame was interrupted with
  std::optional<x86_64::PtRegs> regs;    // ... and their contents
  CodeLocation where;
  std::string line;                      // "fs/dcache.c:2989", when the line table knows
  bool holds(uint64_t stack_address) const { return stack_address >= sp && stack_address < caller_sp; }
};

struct Backtrace {
  std::string start;                         // where the first registers came from
  std::optional<x86_64::PtRegs> start_regs;  // those registers, when they are the CPU's from the dump's notes
  std::vector<Frame> frames;
  std::optional<x86_64::PtRegs> user_regs;   // the user-mode registers saved at kernel entry, when reached
  std::string end;                           // "user mode", "end of stack", or what went wrong
  bool reliable = true;
};

}  // namespace coroner
