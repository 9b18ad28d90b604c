#pragma once
// x86-64's general registers in the order the kernel saves them on entry (struct pt_regs, the same
// order as user_regs_struct's first 21 registers, which is what an ELF core's NT_PRSTATUS holds).
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "coroner/dump/notes.hpp"

namespace coroner::x86_64 {

constexpr int kPtRegsCount = 21;
using PtRegs = std::array<uint64_t, kPtRegsCount>;

// pt_regs slots the unwinder reads by position.
namespace pt_regs_slot {
constexpr int r13 = 2, bp = 4, r10 = 7, dx = 12, di = 14, ip = 16, cs = 17, sp = 19;
}
// Where pt_regs' IRET frame (ip, cs, flags, sp, ss) starts, and its size.
constexpr uint64_t kIretFrameOffset = 16 * 8;
constexpr uint64_t kIretFrameSize = 5 * 8;

// Registers saved while in user mode: the privilege level in cs is not 0.
bool user_mode(const PtRegs& regs);
// The kernel's names for pt_regs slots ("r15", ..., "ax", "ip", "sp"), and a register by the name
// a disassembler gives it ("rax", "r9", "rip").
const char* pt_regs_name(int index);
std::optional<uint64_t> register_value(const PtRegs& regs, std::string_view name);
// The registers of an NT_PRSTATUS note.
PtRegs regs_from_note(const PrStatus& note);

}  // namespace coroner::x86_64
