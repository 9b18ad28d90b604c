// x86-64 decoding with Capstone: what a stack scan needs to tell a return address from a
// function pointer.
#include <gtest/gtest.h>

#include <vector>

#include "coroner/arch/x86_64_disassembler.hpp"

using coroner::x86_64::Disassembler;

namespace {

bool call_before(std::vector<uint8_t> bytes) {
  auto d = Disassembler::create();
  EXPECT_TRUE(d.ok());
  return d && d->call_ends_here(bytes);
}

TEST(Disassembler, ACallEndsWhereAReturnAddressPoints) {
  EXPECT_TRUE(call_before({0x48, 0x89, 0xc7, 0xe8, 0x10, 0x20, 0x30, 0x40}));  // mov; call rel32
  EXPECT_TRUE(call_before({0x90, 0xff, 0xd0}));                                // call *%rax
  EXPECT_TRUE(call_before({0x90, 0x41, 0xff, 0xd3}));                          // call *%r11
  EXPECT_TRUE(call_before({0xff, 0x15, 0x00, 0x10, 0x00, 0x00}));              // call *0x1000(%rip)
  EXPECT_TRUE(call_before({0xff, 0x14, 0xc5, 0x00, 0x10, 0x00, 0x00}));        // call *0x1000(,%rax,8)
  EXPECT_TRUE(call_before({0x41, 0xff, 0x55, 0x08}));                          // call *0x8(%r13)
}

TEST(Disassembler, PaddingAndOtherCodeAreNotACall) {
  // A function pointer: what precedes a function is the previous one's ret and padding, or the
  // 16 bytes of __pfx_ NOPs 6.2+ puts before every function.
  EXPECT_FALSE(call_before(std::vector<uint8_t>(16, 0x90)));
  EXPECT_FALSE(call_before({0xc3, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc}));
  EXPECT_FALSE(call_before({0xe8, 0x10, 0x20, 0x30, 0x40, 0x90}));  // a call, then one more instruction
  EXPECT_FALSE(call_before({0xe9, 0x10, 0x20, 0x30, 0x40}));        // jmp rel32
  EXPECT_FALSE(call_before({}));
}

}  // namespace
