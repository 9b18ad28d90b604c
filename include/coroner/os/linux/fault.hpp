#pragma once
// The faulting instruction explained: the exception pt_regs on the crashing stack, the code around
// RIP, the memory operand of the instruction that faulted and its effective address recomputed
// from the saved registers, what that address and its base register hold (NULL plus an offset, a
// poison pattern, a free or allocated slab object and the member at that offset, user space), and
// where the base register's value was loaded from, followed back through the instructions before.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/arch/x86_64_disassembler.hpp"
#include "coroner/os/linux/linux_view.hpp"
#include "coroner/os/linux/slub.hpp"
#include "coroner/poison/poison_catalog.hpp"

namespace coroner::linux_kernel {

// What a value used as an address is, in one phrase.
struct ValueMeaning {
  std::string kind;  // "null", "poison", "non-canonical", "user", "slab object", "kernel", ...
  std::string text;  // "POISON_FREE + 0x8: freed slab object: ...", "free object in cache coroner_obj"
  std::optional<SlabObject> slab;
};
ValueMeaning value_meaning(LinuxView& view, Slub* slub, const PoisonCatalog& poison, uint64_t value);

// One step back from the faulting instruction: `reg` held `value`, loaded by `instruction` from
// `address` (when it was a load).
struct Provenance {
  std::string reg;
  uint64_t value = 0;
  x86_64::Instruction instruction;
  std::optional<uint64_t> address;
  ValueMeaning address_meaning;  // what the address it was loaded from is
  std::string member;            // "struct coroner_obj.peer", when the address is a slab object's
};

struct FaultExplanation {
  const Frame* frame = nullptr;  // the exception frame (its pt_regs)
  PtRegs regs{};
  CodeLocation where;
  std::vector<x86_64::Instruction> code;    // from a little before RIP to a little after
  std::optional<x86_64::Instruction> faulting;
  std::optional<uint64_t> address;          // the faulting operand's effective address
  ValueMeaning address_meaning, base_meaning;
  std::vector<Provenance> chain;            // the base register, traced back
  std::string member;                       // the member the faulting access aimed at, when known
  std::vector<std::string> findings;        // the story, one sentence each
};

// nullopt when the backtrace has no kernel-mode exception frame (a panic() without an oops).
std::optional<FaultExplanation> explain_fault(LinuxView& view, Slub* slub, const PoisonCatalog& poison,
                                              const Backtrace& bt);

}  // namespace coroner::linux_kernel
