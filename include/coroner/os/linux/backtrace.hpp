#pragma once
// Backtraces of Linux tasks on x86-64, as the kernel's own ORC unwinder computes them: from the
// CPU's registers (the dump's notes) for tasks running at the crash, from the saved switch frame
// (thread.sp -> inactive_task_frame) for the others; across IRQ and exception stacks through the
// pt_regs their entry code saved. Code objtool left without ORC data unwinds by the compiler's
// DWARF call frame information when it is at hand; code with no unwind data at all falls back to
// frame pointers, and an unwind that fails ends with a stack scan whose frames are unreliable.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "coroner/arch/x86_64_disassembler.hpp"
#include "coroner/arch/x86_64_orc.hpp"
#include "coroner/debuginfo/call_frames.hpp"
#include "coroner/os/linux/modules.hpp"
#include "coroner/os/linux/tasks.hpp"

namespace coroner::linux_kernel {

// struct pt_regs on x86-64 (the same order as user_regs_struct's first 21 registers).
constexpr int kPtRegsCount = 21;
using PtRegs = std::array<uint64_t, kPtRegsCount>;
bool user_mode(const PtRegs& regs);
// The kernel's names for pt_regs slots ("r15", ..., "ax", "ip", "sp"), and a register by the name
// a disassembler gives it ("rax", "r9", "rip").
const char* pt_regs_name(int index);
std::optional<uint64_t> register_value(const PtRegs& regs, std::string_view name);

enum class FrameSource { registers, orc, call_frame_info, frame_pointer, stack_scan };
const char* frame_source_name(FrameSource s);

struct Frame {
  int level = 0;
  uint64_t pc = 0;
  uint64_t sp = 0;         // the stack pointer while `pc` runs: the frame's lowest address
  uint64_t caller_sp = 0;  // the caller's stack pointer: the frame is [sp, caller_sp)
  std::string stack;       // "task", "IRQ", "NMI", ... ("" when sp is on no known stack)
  FrameSource source = FrameSource::orc;
  bool reliable = true;
  std::optional<uint64_t> regs_address;  // the pt_regs this frame was interrupted with
  std::optional<PtRegs> regs;            // ... and their contents
  CodeLocation where;
  std::string line;                      // "fs/dcache.c:2989", when the line table knows
  bool holds(uint64_t stack_address) const { return stack_address >= sp && stack_address < caller_sp; }
};

struct Backtrace {
  const Task* task = nullptr;
  std::string start;             // where the first registers came from
  std::optional<PtRegs> start_regs;  // those registers, when they are the CPU's from the dump's notes
  std::vector<Frame> frames;
  std::optional<PtRegs> user_regs;  // the user-mode registers saved at kernel entry, when reached
  std::string end;                  // "user mode", "end of stack", or what went wrong
  bool reliable = true;
};

// file:line of a code address (return addresses are looked up at pc - 1 by the caller).
using LineLookup = std::function<std::string(uint64_t pc)>;
// The DWARF call frame rule at a run-time code address, when the debug info has one.
using CallFrameLookup = std::function<std::optional<CallFrameRule>(uint64_t pc)>;

class Unwinder {
 public:
  Unwinder(Objects& objects, const TaskList& tasks, const ModuleList* modules, const x86_64::OrcIndex& orc)
      : objects_(objects), tasks_(tasks), modules_(modules), orc_(orc), text_(objects.kernel(), modules) {
    if (auto d = x86_64::Disassembler::create()) disassembler_.emplace(std::move(*d));
  }
  void set_line_lookup(LineLookup lookup) { lines_ = std::move(lookup); }
  void set_call_frame_lookup(CallFrameLookup lookup) { call_frames_ = std::move(lookup); }

  Backtrace backtrace(const Task& task) const;

 private:
  Objects& objects_;
  const TaskList& tasks_;
  const ModuleList* modules_;
  const x86_64::OrcIndex& orc_;
  TextRanges text_;  // where a return address may point: computed once for every task
  std::optional<x86_64::Disassembler> disassembler_;  // a stack scan's test for a return address
  LineLookup lines_;
  CallFrameLookup call_frames_;
};

}  // namespace coroner::linux_kernel
