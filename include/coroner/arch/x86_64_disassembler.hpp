#pragma once
// x86-64 instructions decoded with Capstone: text in AT&T (the kernel's oops "Code:" style) or
// Intel syntax, and the memory operand of each (base, index, scale, displacement), which is what
// the fault explanation needs to recompute the address an instruction touched.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "coroner/result.hpp"

namespace coroner::x86_64 {

enum class Syntax { att, intel };

struct MemoryOperand {
  std::string base, index, segment;  // 64-bit register names ("rax"), empty when absent
  int scale = 1;
  int64_t displacement = 0;
  unsigned size = 0;  // bytes accessed
  bool rip_relative() const { return base == "rip"; }
};

struct Instruction {
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
  std::string mnemonic, operands;
  std::optional<MemoryOperand> memory;  // the first memory operand
  std::string text() const { return operands.empty() ? mnemonic : mnemonic + " " + operands; }
};

class Disassembler {
 public:
  static Result<Disassembler> create(Syntax syntax = Syntax::att);
  ~Disassembler();
  Disassembler(Disassembler&& other) noexcept;
  Disassembler& operator=(Disassembler&&) = delete;
  Disassembler(const Disassembler&) = delete;

  // Up to `count` instructions from `code` at `address`; stops at the first undecodable byte.
  std::vector<Instruction> decode(std::span<const uint8_t> code, uint64_t address, size_t count) const;
  // Whether a call instruction ends exactly where `before` (the bytes just below an address, at
  // most 15) ends: what makes a word found on a stack a return address rather than a function
  // pointer, whose bytes before are the previous function's end or padding (`__pfx_*`).
  bool call_ends_here(std::span<const uint8_t> before) const;
  // The target of the direct call (e8 rel32) that ends at `return_address`, whose bytes up to it
  // are `before`; nullopt for any other instruction.
  std::optional<uint64_t> direct_call_target(std::span<const uint8_t> before, uint64_t return_address) const;

 private:
  explicit Disassembler(size_t handle) : handle_(handle) {}
  size_t handle_ = 0;  // csh
};

// The 64-bit register a (sub)register name belongs to: "eax" -> "rax", "r9d" -> "r9".
std::string full_register(const std::string& name);

}  // namespace coroner::x86_64
