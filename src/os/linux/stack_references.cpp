#include "coroner/os/linux/stack_references.hpp"

#include <cstring>

#include "coroner/format.hpp"

namespace coroner::linux_kernel {
namespace {

constexpr uint64_t kInactiveFrameSize = 7 * 8;
const char* kSwitchFrameRegs[] = {"r15", "r14", "r13", "r12", "rbx", "rbp", "return address"};

// Registers in NT_PRSTATUS order (user_regs_struct), named as the kernel prints them.
const char* kNoteRegs[] = {"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",
                           "r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip"};

}  // namespace

SlotPlace place_on_stack(const Backtrace& bt, const Task& task, uint64_t location) {
  for (const Frame& f : bt.frames) {
    if (f.holds(location)) return {StackSlot::live_frame, "frame #" + std::to_string(f.level) + " " + f.where.text(f.pc), f};
  }
  if (!task.active_on && location >= task.sp && location < task.sp + kInactiveFrameSize) {
    return {StackSlot::switch_frame, std::string("switch frame (saved ") + kSwitchFrameRegs[(location - task.sp) / 8] + ")"};
  }
  if (!bt.frames.empty() && location < bt.frames.front().sp) return {StackSlot::below_stack_pointer, kBelowStackPointerText};
  return {StackSlot::outside_frames, kOutsideFramesText};
}

Result<std::vector<StackReference>> find_stack_references(LinuxView& view, uint64_t low, uint64_t high) {
  return find_stack_references(view, [low, high](uint64_t v) { return v >= low && v < high; });
}

Result<std::vector<StackReference>> find_stack_references(LinuxView& view, const ValueMatch& in_range) {
  auto tasks = view.tasks();
  if (!tasks) return tasks.error();
  std::vector<StackReference> out;
  TypedMemory& objects = view.objects();
  for (const Task& task : (*tasks)->threads) {
    std::optional<Backtrace> bt;
    auto backtrace = [&]() -> const Backtrace& {
      if (!bt) bt = view.backtrace(task).value_or(Backtrace{});
      return *bt;
    };
    if (task.active_on) {
      const Cpu* cpu = (*tasks)->cpu(*task.active_on);
      if (cpu && cpu->registers) {
        for (int r = 0; r < 17; ++r) {
          uint64_t v = cpu->registers->regs[r];
          if (in_range(v)) out.push_back({&task, v, std::nullopt, kNoteRegs[r], "", {StackSlot::live_frame, "register " + std::string(kNoteRegs[r])}});
        }
      }
    }
    for (const StackRange& range : (*tasks)->stacks_of(task)) {
      if (range.high <= range.low || range.high - range.low > (1u << 20)) continue;
      ObjectBytes bytes = objects.read_object(range.low, range.high - range.low);
      for (uint64_t off = 0; off + 8 <= bytes.data.size(); off += 8) {
        uint64_t v;
        std::memcpy(&v, bytes.data.data() + off, 8);
        if (!in_range(v) || !bytes.readable(off, 8)) continue;
        uint64_t location = range.low + off;
        out.push_back({&task, v, location, "", range.kind, place_on_stack(backtrace(), task, location)});
      }
    }
  }
  return out;
}

}  // namespace coroner::linux_kernel
