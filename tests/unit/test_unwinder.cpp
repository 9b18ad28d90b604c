// The unwinder every kernel shares, on a synthetic stack: where a target has call frame
// information it is followed, where it has none the frame-pointer chain is, and an unwind that
// fails ends with a stack scan whose frames are marked unreliable.
#include <gtest/gtest.h>

#include <map>

#include "coroner/target/unwinder.hpp"
#include "../support/dump_builder.hpp"
#include "../support/temp_file.hpp"

using namespace coroner;
using namespace coroner::testing;
using SK = SyntheticKernel;

namespace {

constexpr uint64_t kStackVa = SK::kDataVa + 0x10000, kStackPa = SK::kDataPa + 0x10000, kStackSize = 0x4000;
constexpr uint64_t kTextVa = SK::kDataVa + 0x100000, kTextPa = SK::kDataPa + 0x100000, kTextSize = 0x1000;

// Three functions of 0x100 bytes each; `leaf` keeps no frame pointer.
const std::map<uint64_t, std::string> kFunctions = {{kTextVa, "leaf"}, {kTextVa + 0x100, "middle"}, {kTextVa + 0x200, "outer"}};

class SyntheticStack {
 public:
  void word(uint64_t va, uint64_t value) { k_.memory().put(kStackPa + (va - kStackVa), value); }
  // A direct call (e8 rel32) that returns to `return_address`.
  void call_before(uint64_t return_address) {
    const uint8_t call[5] = {0xe8, 0, 0, 0, 0};
    k_.memory().write(kTextPa + (return_address - kTextVa) - 5, call);
  }
  std::unique_ptr<Kernel> open() {
    std::string vi = k_.vmcoreinfo();
    file_ = std::make_unique<TempFile>(build_kdump(k_.memory(), 1024, build_notes({{1, 0, 0, 0}}, vi), vi, {}));
    auto k = Kernel::open(KernelOpenOptions{file_->path(), std::nullopt, std::nullopt});
    EXPECT_TRUE(k) << (k ? "" : k.error().message);
    return k ? std::move(*k) : nullptr;
  }

 private:
  SK k_;
  std::unique_ptr<TempFile> file_;
};

CodeView code_with(std::map<uint64_t, CallFrameRule> rules) {
  CodeView code;
  code.is_text = [](uint64_t pc) { return pc >= kTextVa && pc < kTextVa + kTextSize; };
  code.locate = [](uint64_t pc, bool return_address) {
    CodeLocation loc;
    uint64_t at = return_address ? pc - 1 : pc;
    auto it = kFunctions.upper_bound(at);
    if (it == kFunctions.begin()) return loc;
    --it;
    loc.function = it->second;
    loc.offset = pc - it->first;
    loc.size = 0x100;
    return loc;
  };
  // A rule covers its function (0x100 bytes from the key).
  code.call_frame_rule = [rules = std::move(rules)](uint64_t pc) -> std::optional<CallFrameRule> {
    auto it = rules.upper_bound(pc);
    if (it == rules.begin() || pc - std::prev(it)->first >= 0x100) return std::nullopt;
    return std::prev(it)->second;
  };
  return code;
}

std::vector<std::string> functions(const Backtrace& bt) {
  std::vector<std::string> out;
  for (const Frame& f : bt.frames) out.push_back(f.where.function);
  return out;
}

std::vector<StackRange> thread_stack() { return {{"thread", kStackVa, kStackVa + kStackSize}}; }

}  // namespace

TEST(Unwinder, CallFrameInformationWhereItHasARuleThenTheFramePointerChain) {
  SyntheticStack s;
  const uint64_t sp = kStackVa + 0x1000, middle_ret = kTextVa + 0x140, outer_ret = kTextVa + 0x230;
  // leaf: no frame pointer; CFA = rsp + 24, the return address at CFA - 8.
  s.word(sp + 16, middle_ret);
  // middle: a frame-pointer frame at bp; the bp it saved for outer is 0, the end of the chain.
  const uint64_t middle_bp = sp + 0x40;
  s.word(middle_bp, 0);
  s.word(middle_bp + 8, outer_ret);
  auto kernel = s.open();
  ASSERT_TRUE(kernel);
  Unwinder unwinder(*kernel, code_with({{kTextVa, CallFrameRule{kDwarfRsp, 24, -8, std::nullopt}}}));
  Backtrace bt;
  unwinder.unwind({kTextVa + 0x10, sp, middle_bp, true, std::nullopt}, thread_stack(), bt);

  EXPECT_EQ(functions(bt), (std::vector<std::string>{"leaf", "middle", "outer"}));
  EXPECT_EQ(bt.end, "end of stack");
  ASSERT_EQ(bt.frames.size(), 3u);
  EXPECT_EQ(bt.frames[1].source, FrameSource::call_frame_info);
  EXPECT_EQ(bt.frames[1].sp, sp + 24);
  EXPECT_EQ(bt.frames[0].caller_sp, sp + 24);
  EXPECT_EQ(bt.frames[1].bp, middle_bp);  // leaf saved no rbp: the caller's is the register's
  EXPECT_EQ(bt.frames[2].source, FrameSource::frame_pointer);
  EXPECT_EQ(bt.frames[2].sp, middle_bp + 16);
  EXPECT_EQ(bt.frames[2].where.offset, 0x30u);  // a return address names its call
  EXPECT_FALSE(bt.frames[2].reliable);
}

TEST(Unwinder, WithoutCallFrameInformationTheFramePointerChainAlone) {
  SyntheticStack s;
  const uint64_t sp = kStackVa + 0x1000, bp = sp + 0x20;
  s.word(bp, 0);
  s.word(bp + 8, kTextVa + 0x150);
  auto kernel = s.open();
  ASSERT_TRUE(kernel);
  Unwinder unwinder(*kernel, code_with({}));
  Backtrace bt;
  unwinder.unwind({kTextVa + 0x10, sp, bp, true, std::nullopt}, thread_stack(), bt);
  EXPECT_EQ(functions(bt), (std::vector<std::string>{"leaf", "middle"}));
  EXPECT_EQ(bt.end, "end of stack");
  EXPECT_FALSE(bt.reliable);
}

TEST(Unwinder, AFramePointerOffEveryStackEndsInAStackScanOfReturnAddresses) {
  SyntheticStack s;
  const uint64_t sp = kStackVa + 0x1000;
  // Above the stack pointer: a function pointer (no call before it) and a return address.
  s.word(sp + 0x18, kTextVa + 0x200);
  s.word(sp + 0x28, kTextVa + 0x160);
  s.call_before(kTextVa + 0x160);
  auto kernel = s.open();
  ASSERT_TRUE(kernel);
  Unwinder unwinder(*kernel, code_with({}));
  Backtrace bt;
  unwinder.unwind({kTextVa + 0x10, sp, 0xdead0000, true, std::nullopt}, thread_stack(), bt);
  EXPECT_NE(bt.end.find("frame pointer 0xdead0000 is on none of the thread's stacks (thread ["), std::string::npos) << bt.end;
  ASSERT_EQ(bt.frames.size(), 2u);
  EXPECT_EQ(bt.frames[1].where.function, "middle");
  EXPECT_EQ(bt.frames[1].source, FrameSource::stack_scan);
  EXPECT_EQ(bt.frames[1].sp, sp + 0x28);
  EXPECT_FALSE(bt.frames[1].reliable);
}

TEST(Unwinder, AStackOnceLeftIsNotReturnedTo) {
  SyntheticStack s;
  // Interrupt stack [kStackVa, +0x1000), the thread's [kStackVa + 0x1000, +0x3000): the chain goes
  // from the interrupt stack to the thread's and then points back into the interrupt stack.
  const uint64_t irq_bp = kStackVa + 0x800, thread_bp = kStackVa + 0x2000;
  s.word(irq_bp, thread_bp);
  s.word(irq_bp + 8, kTextVa + 0x150);
  s.word(thread_bp, kStackVa + 0x900);
  s.word(thread_bp + 8, kTextVa + 0x250);
  auto kernel = s.open();
  ASSERT_TRUE(kernel);
  Unwinder unwinder(*kernel, code_with({}));
  Backtrace bt;
  std::vector<StackRange> stacks{{"interrupt", kStackVa, kStackVa + 0x1000}, {"thread", kStackVa + 0x1000, kStackVa + 0x3000}};
  unwinder.unwind({kTextVa + 0x10, kStackVa + 0x700, irq_bp, true, std::nullopt}, stacks, bt);
  ASSERT_GE(bt.frames.size(), 3u);
  EXPECT_EQ(functions(bt)[2], "outer");
  EXPECT_EQ(bt.frames[1].stack, "interrupt");  // its frame starts above the interrupted one's
  EXPECT_EQ(bt.frames[2].stack, "thread");
  EXPECT_NE(bt.end.find("back on the interrupt stack it had left"), std::string::npos) << bt.end;
}

TEST(Unwinder, CodeThatIsNotTextStopsTheUnwind) {
  SyntheticStack s;
  const uint64_t sp = kStackVa + 0x1000, bp = sp + 0x20;
  s.word(bp, sp + 0x40);
  s.word(bp + 8, 0x4141414141414141);
  auto kernel = s.open();
  ASSERT_TRUE(kernel);
  Unwinder unwinder(*kernel, code_with({}));
  Backtrace bt;
  unwinder.unwind({kTextVa + 0x10, sp, bp, true, std::nullopt}, thread_stack(), bt);
  EXPECT_EQ(functions(bt), std::vector<std::string>{"leaf"});
  EXPECT_EQ(bt.end, "return address 0x4141414141414141 is not kernel text");
}
