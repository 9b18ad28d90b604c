#include "coroner/arch/x86_64_disassembler.hpp"

#include <capstone/capstone.h>

#include <cstring>
#include <map>

namespace coroner::x86_64 {
namespace {

std::string reg_name(csh handle, unsigned reg) {
  if (reg == X86_REG_INVALID) return "";
  const char* name = cs_reg_name(handle, reg);
  return name ? full_register(name) : "";
}

}  // namespace

std::string full_register(const std::string& name) {
  static const std::map<std::string, std::string, std::less<>> kFull = {
      {"eax", "rax"}, {"ax", "rax"}, {"al", "rax"}, {"ah", "rax"}, {"ebx", "rbx"}, {"bx", "rbx"}, {"bl", "rbx"},
      {"bh", "rbx"},  {"ecx", "rcx"}, {"cx", "rcx"}, {"cl", "rcx"}, {"ch", "rcx"}, {"edx", "rdx"}, {"dx", "rdx"},
      {"dl", "rdx"},  {"dh", "rdx"},  {"esi", "rsi"}, {"si", "rsi"}, {"sil", "rsi"}, {"edi", "rdi"}, {"di", "rdi"},
      {"dil", "rdi"}, {"ebp", "rbp"}, {"bp", "rbp"}, {"bpl", "rbp"}, {"esp", "rsp"}, {"sp", "rsp"}, {"spl", "rsp"},
      {"eip", "rip"}};
  if (auto it = kFull.find(name); it != kFull.end()) return it->second;
  // r8d, r8w, r8b -> r8
  if (name.size() >= 3 && name[0] == 'r' && std::isdigit(static_cast<unsigned char>(name[1]))) {
    std::string out = name;
    while (!out.empty() && !std::isdigit(static_cast<unsigned char>(out.back()))) out.pop_back();
    return out;
  }
  return name;
}

Result<Disassembler> Disassembler::create(Syntax syntax) {
  csh handle = 0;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return make_error("Capstone cannot open an x86-64 disassembler");
  cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
  cs_option(handle, CS_OPT_SYNTAX, syntax == Syntax::att ? CS_OPT_SYNTAX_ATT : CS_OPT_SYNTAX_INTEL);
  return Disassembler(static_cast<size_t>(handle));
}

Disassembler::~Disassembler() {
  if (handle_) {
    csh h = handle_;
    cs_close(&h);
  }
}

Disassembler::Disassembler(Disassembler&& other) noexcept : handle_(other.handle_) { other.handle_ = 0; }

std::vector<Instruction> Disassembler::decode(std::span<const uint8_t> code, uint64_t address, size_t count) const {
  std::vector<Instruction> out;
  csh handle = handle_;
  cs_insn* insn = nullptr;
  size_t n = cs_disasm(handle, code.data(), code.size(), address, count, &insn);
  for (size_t i = 0; i < n; ++i) {
    Instruction in;
    in.address = insn[i].address;
    in.bytes.assign(insn[i].bytes, insn[i].bytes + insn[i].size);
    in.mnemonic = insn[i].mnemonic;
    in.operands = insn[i].op_str;
    if (const cs_detail* d = insn[i].detail) {
      for (uint8_t k = 0; k < d->x86.op_count; ++k) {
        const cs_x86_op& op = d->x86.operands[k];
        if (op.type != X86_OP_MEM) continue;
        MemoryOperand m;
        m.base = reg_name(handle, op.mem.base);
        m.index = reg_name(handle, op.mem.index);
        m.segment = reg_name(handle, op.mem.segment);
        m.scale = op.mem.scale;
        m.displacement = op.mem.disp;
        m.size = op.size;
        in.memory = m;
        break;
      }
    }
    out.push_back(std::move(in));
  }
  if (insn) cs_free(insn, n);
  return out;
}

bool Disassembler::call_ends_here(std::span<const uint8_t> before) const {
  // A call is 2 (call *%rax) to 7 bytes (call *disp32(,%reg,8)), a direct one 5 (e8 rel32); with
  // prefixes, a few more.
  for (size_t length = 2; length <= before.size() && length <= 15; ++length) {
    auto code = before.subspan(before.size() - length);
    auto one = decode(code, 0, 1);
    if (!one.empty() && one[0].bytes.size() == length && one[0].mnemonic.starts_with("call")) return true;
  }
  return false;
}

std::optional<uint64_t> Disassembler::direct_call_target(std::span<const uint8_t> before, uint64_t return_address) const {
  constexpr size_t kLength = 5;
  if (before.size() < kLength || before[before.size() - kLength] != 0xe8) return std::nullopt;
  auto code = before.subspan(before.size() - kLength);
  auto one = decode(code, return_address - kLength, 1);
  if (one.empty() || one[0].bytes.size() != kLength || !one[0].mnemonic.starts_with("call")) return std::nullopt;
  int32_t rel = 0;
  std::memcpy(&rel, code.data() + 1, sizeof rel);
  return return_address + static_cast<uint64_t>(int64_t{rel});
}

}  // namespace coroner::x86_64
