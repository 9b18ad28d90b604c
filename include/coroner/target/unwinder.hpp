#pragma once
// One x86-64 unwinder for every kernel: a loop over register state that finds each caller by the
// best rule the target has for the code at hand, as drgn's stack_trace.c does. ORC entries
// (Linux's objtool tables) come first where the target has them; else the compiler's DWARF call
// frame information; else the frame-pointer chain. An unwind that fails ends with a stack scan for
// return addresses, each frame it finds marked unreliable.
//
// The target supplies what only it knows: the registers to start from, the stacks the thread may
// run on, which addresses are code, and how to name them.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "coroner/arch/x86_64_disassembler.hpp"
#include "coroner/arch/x86_64_orc.hpp"
#include "coroner/arch/x86_64_registers.hpp"
#include "coroner/debuginfo/call_frames.hpp"
#include "coroner/target/frame.hpp"
#include "coroner/target/kernel.hpp"
#include "coroner/target/stack_range.hpp"

namespace coroner {

// Where an unwind starts.
struct UnwindStart {
  uint64_t ip = 0, sp = 0, bp = 0;
  // ip is where execution stopped (registers of a CPU, an interrupted context, a saved context's
  // resume address), not a return address to be looked up one byte back.
  bool exact_ip = false;
  std::optional<x86_64::PtRegs> regs;  // every register, when known
};

// What the target knows of its code. Only `is_text` and `locate` are needed; a target without
// ORC tables, call frame information or line tables leaves them empty.
struct CodeView {
  std::function<bool(uint64_t)> is_text;                        // where a return address may point
  std::function<CodeLocation(uint64_t, bool return_address)> locate;
  std::function<std::string(uint64_t)> line;                    // file:line of an address
  std::function<std::optional<CallFrameRule>(uint64_t)> call_frame_rule;
  const x86_64::OrcIndex* orc = nullptr;
};

class Unwinder {
 public:
  Unwinder(const Kernel& kernel, CodeView code);
  // The frames from `start` across `stacks`, appended to `out` with the reason the unwind ended.
  void unwind(const UnwindStart& start, std::vector<StackRange> stacks, Backtrace& out) const;
  const CodeView& code() const { return code_; }
  const Kernel& kernel() const { return kernel_; }

 private:
  const Kernel& kernel_;
  CodeView code_;
  std::optional<x86_64::Disassembler> disassembler_;  // a stack scan's test for a return address
};

}  // namespace coroner
