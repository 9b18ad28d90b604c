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

#include "coroner/address_kind.hpp"
#include "coroner/arch/x86_64_disassembler.hpp"
#include "coroner/os/linux/linux_view.hpp"
#include "coroner/os/linux/printk_log.hpp"
#include "coroner/os/linux/slub.hpp"
#include "coroner/poison/poison_catalog.hpp"

namespace coroner::linux_kernel {

// What a value used as an address is, in one phrase.
struct ValueMeaning {
  AddressKind kind = AddressKind::unknown;
  std::string text;     // "POISON_FREE + 0x8: freed slab object: ...", "free object in cache coroner_obj"
  std::string pattern;  // the poison pattern's name, for AddressKind::poison
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
  std::string regs_from;                    // where the exception's registers were found
  CodeLocation where;
  std::vector<x86_64::Instruction> code;    // from a little before RIP to a little after
  std::optional<x86_64::Instruction> faulting;
  std::optional<uint64_t> address;          // the faulting operand's effective address
  ValueMeaning address_meaning, base_meaning;
  std::vector<Provenance> chain;            // the base register, traced back
  std::string member;                       // the member the faulting access aimed at, when known
  // A BUG_ON()'s trap (ud2): the address its failed check read, and the instruction that read it.
  std::optional<uint64_t> checked;
  std::optional<x86_64::Instruction> checked_by;
  ValueMeaning checked_meaning;
  std::vector<std::string> findings;        // the story, one sentence each
};

// Where the last oops in the log says it happened ("coroner_crash+0x10f/0x500 [coroner_test]", its
// "RIP: 0010:" line), when the log has one.
std::optional<std::string> reported_oops_location(const KernelLog& log);

// The exception's registers are the pt_regs its entry code saved on the crashing stack; or, when a
// kdump capture kernel took the dump straight from oops_end() (crash_kexec(regs), no panic()), the
// crashing CPU's own registers in the dump, recognised by the location the log's oops reported.
// nullopt when there are neither (a panic() without an oops). `log` may be null.
std::optional<FaultExplanation> explain_fault(LinuxView& view, Slub* slub, const PoisonCatalog& poison,
                                              const Backtrace& bt, const KernelLog* log);

}  // namespace coroner::linux_kernel
