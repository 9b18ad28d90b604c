#include "coroner/arch/x86_64_registers.hpp"

#include <cctype>

namespace coroner::x86_64 {

bool user_mode(const PtRegs& regs) { return (regs[pt_regs_slot::cs] & 3) != 0; }

const char* pt_regs_name(int index) {
  static const char* kNames[kPtRegsCount] = {"r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax",
                                             "cx", "dx", "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss"};
  return index >= 0 && index < kPtRegsCount ? kNames[index] : "?";
}

std::optional<uint64_t> register_value(const PtRegs& regs, std::string_view name) {
  // "rax" is pt_regs' "ax"; "r9" is "r9".
  std::string_view short_name = name.size() == 3 && name[0] == 'r' && !std::isdigit(static_cast<unsigned char>(name[1]))
                                    ? name.substr(1)
                                    : name;
  for (int i = 0; i < kPtRegsCount; ++i) {
    if (short_name == pt_regs_name(i)) return regs[i];
  }
  return std::nullopt;
}

PtRegs regs_from_note(const PrStatus& note) {
  PtRegs r{};
  for (int i = 0; i < kPtRegsCount; ++i) r[i] = note.regs[i];
  return r;
}

}  // namespace coroner::x86_64
