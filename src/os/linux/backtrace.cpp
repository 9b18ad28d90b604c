#include "coroner/os/linux/backtrace.hpp"

#include "coroner/format.hpp"

namespace coroner::linux_kernel {
namespace {

using x86_64::OrcEntry;
using x86_64::OrcReg;
using x86_64::OrcType;

constexpr int kMaxFrames = 256;
constexpr int kMaxScanFrames = 64;
// pt_regs indices
constexpr int kR13 = 2, kBp = 4, kR10 = 7, kDx = 12, kDi = 14, kIp = 16, kCs = 17, kSp = 19;
constexpr uint64_t kIretFrameOffset = 16 * 8;  // offsetof(struct pt_regs, ip)
constexpr uint64_t kIretFrameSize = 5 * 8;

// The entry the kernel assumes for code without ORC data: a frame-pointer frame.
constexpr OrcEntry kFramePointerEntry{16, -16, OrcReg::bp, OrcReg::prev_sp, OrcType::call, false, false};

struct State {
  uint64_t ip = 0, sp = 0, bp = 0;
  bool signal = false;  // ip is where execution was interrupted, not a return address
  std::optional<uint64_t> regs_address;
  std::optional<PtRegs> regs;  // full registers known for this frame
  std::optional<PtRegs> prev_regs;
  bool full_regs = false;
};

class Walk {
 public:
  Walk(const Kernel& kernel, const ModuleList* modules, const x86_64::OrcIndex& orc, const TextRanges& text,
       const x86_64::Disassembler* disassembler, const LineLookup& lines, const CallFrameLookup& call_frames,
       std::vector<StackRange> stacks, Backtrace& out)
      : k_(kernel),
        modules_(modules),
        orc_(orc),
        text_(text),
        disassembler_(disassembler),
        lines_(lines),
        call_frames_(call_frames),
        stacks_(std::move(stacks)),
        out_(out) {}

  void run(State s) {
    for (int n = 0; n < kMaxFrames; ++n) {
      if (s.regs && user_mode(*s.regs)) {
        out_.user_regs = s.regs;
        out_.end = "user mode";
        return close_last(s.sp);
      }
      if (!text_.contains(s.ip)) {
        return fail("return address " + hex(s.ip) + " is not kernel text", s);
      }
      emit(s);
      std::string why;
      auto next = step(s, why);
      if (!next) {
        if (why.empty()) {
          out_.end = "end of stack";
          return close_last(s.sp);
        }
        return fail(why, s);
      }
      close_last(next->sp);
      s = *next;
    }
    fail("more than " + std::to_string(kMaxFrames) + " frames", s);
  }

 private:
  const StackRange* stack_of(uint64_t a) const {
    for (const StackRange& r : stacks_) {
      if (r.contains(a)) return &r;
    }
    return nullptr;
  }

  std::optional<uint64_t> deref(uint64_t address) const {
    const StackRange* r = stack_of(address);
    if (!r || !r->contains(address + 7)) return std::nullopt;
    auto v = k_.read_u64(address);
    if (!v) return std::nullopt;
    return *v;
  }

  std::optional<PtRegs> read_regs(uint64_t address, uint64_t offset, uint64_t size) const {
    const StackRange* r = stack_of(address + offset);
    if (!r || !r->contains(address + offset + size - 1)) return std::nullopt;
    PtRegs regs{};
    if (offset + size > sizeof regs) return std::nullopt;
    if (!k_.read(address + offset, {reinterpret_cast<uint8_t*>(regs.data()) + offset, size})) return std::nullopt;
    return regs;
  }

  std::optional<uint64_t> get_reg(const State& s, int index) const {
    if (s.regs && s.full_regs) return (*s.regs)[index];
    if (s.prev_regs) return (*s.prev_regs)[index];
    return std::nullopt;
  }

  void emit(const State& s) {
    Frame f;
    f.level = static_cast<int>(out_.frames.size());
    f.pc = s.ip;
    f.sp = s.sp;
    if (const StackRange* r = stack_of(s.sp)) f.stack = r->kind;
    f.source = out_.frames.empty() && s.regs ? FrameSource::registers : source_;
    f.reliable = f.source != FrameSource::frame_pointer && f.source != FrameSource::stack_scan;
    f.regs_address = s.regs_address;
    if (s.regs_address) f.regs = s.regs;
    f.where = locate_code(k_, modules_, s.ip, !s.signal);
    if (lines_) f.line = lines_(s.signal ? s.ip : s.ip - 1);
    out_.frames.push_back(std::move(f));
  }

  // The last frame ends where its caller's stack pointer is, when that is on the same stack.
  void close_last(uint64_t caller_sp) {
    if (out_.frames.empty()) return;
    Frame& f = out_.frames.back();
    const StackRange* r = stack_of(f.sp);
    if (r && r->contains(caller_sp) && caller_sp > f.sp) f.caller_sp = caller_sp;
    else f.caller_sp = r ? r->high : f.sp;
  }

  std::optional<State> step(const State& s, std::string& why) {
    const OrcEntry* orc = orc_.find(s.signal ? s.ip : s.ip - 1);
    source_ = FrameSource::orc;
    if (!orc) {
      orc = &kFramePointerEntry;
      source_ = FrameSource::frame_pointer;
      out_.reliable = false;
    }
    if (orc->sp_reg == OrcReg::undefined || orc->type == OrcType::end_of_stack) {
      if (orc->end || orc->type == OrcType::end_of_stack) return std::nullopt;
      if (auto next = step_by_call_frame_info(s, why); next || !why.empty()) return next;
      why = "no unwind data for " + hex(s.ip);
      return std::nullopt;
    }
    std::optional<uint64_t> sp;
    bool indirect = false;
    switch (orc->sp_reg) {
      case OrcReg::sp: sp = s.sp + orc->sp_offset; break;
      case OrcReg::bp: sp = s.bp + orc->sp_offset; break;
      // Since 5.12 the slot is at sp itself and the offset is added after the load.
      case OrcReg::sp_indirect: sp = s.sp; indirect = true; break;
      case OrcReg::bp_indirect: sp = s.bp + orc->sp_offset; indirect = true; break;
      case OrcReg::r10: sp = get_reg(s, kR10); break;
      case OrcReg::r13: sp = get_reg(s, kR13); break;
      case OrcReg::di: sp = get_reg(s, kDi); break;
      case OrcReg::dx: sp = get_reg(s, kDx); break;
      default: break;
    }
    if (!sp) return why = "cannot find the caller's stack pointer at " + hex(s.ip), std::nullopt;
    if (indirect && !(sp = deref(*sp))) return why = "stack pointer slot off the stack at " + hex(s.ip), std::nullopt;
    if (orc->sp_reg == OrcReg::sp_indirect) *sp += orc->sp_offset;

    State next;
    switch (orc->type) {
      case OrcType::call: {
        auto ip = deref(*sp - 8);
        if (!ip) return why = "return address at " + hex(*sp - 8) + " is off the stack", std::nullopt;
        next.ip = *ip;
        next.sp = *sp;
        break;
      }
      case OrcType::regs: {
        auto regs = read_regs(*sp, 0, kPtRegsCount * 8);
        if (!regs) return why = "pt_regs at " + hex(*sp) + " are off the stack", std::nullopt;
        next.ip = (*regs)[kIp];
        next.sp = (*regs)[kSp];
        next.regs_address = *sp;
        next.regs = regs;
        next.full_regs = true;
        next.signal = true;
        break;
      }
      case OrcType::regs_partial: {
        uint64_t base = *sp - kIretFrameOffset;
        auto regs = read_regs(base, kIretFrameOffset, kIretFrameSize);
        if (!regs) return why = "IRET frame at " + hex(*sp) + " is off the stack", std::nullopt;
        next.ip = (*regs)[kIp];
        next.sp = (*regs)[kSp];
        if (s.full_regs) next.prev_regs = s.regs;
        next.regs_address = base;
        next.regs = regs;
        next.signal = true;
        break;
      }
      default:
        return why = "unknown ORC entry type at " + hex(s.ip), std::nullopt;
    }
    next.bp = s.bp;
    switch (orc->bp_reg) {
      case OrcReg::undefined:
        if (auto bp = get_reg(next, kBp)) next.bp = *bp;
        break;
      case OrcReg::prev_sp: {
        auto bp = deref(*sp + orc->bp_offset);
        if (!bp) return why = "saved frame pointer off the stack at " + hex(s.ip), std::nullopt;
        next.bp = *bp;
        break;
      }
      case OrcReg::bp: {
        auto bp = deref(s.bp + orc->bp_offset);
        if (!bp) return why = "saved frame pointer off the stack at " + hex(s.ip), std::nullopt;
        next.bp = *bp;
        break;
      }
      default:
        return why = "unknown frame pointer rule at " + hex(s.ip), std::nullopt;
    }
    const StackRange* before = stack_of(s.sp);
    if (before && before == stack_of(next.sp) && next.sp <= s.sp) {
      return why = "stack going in the wrong direction at " + hex(s.ip), std::nullopt;
    }
    return next;
  }

  // objtool gave this code no ORC entry: the compiler's CFI says where the caller's frame is.
  std::optional<State> step_by_call_frame_info(const State& s, std::string& why) {
    auto rule = call_frames_ ? call_frames_(s.signal ? s.ip : s.ip - 1) : std::nullopt;
    if (!rule) return std::nullopt;
    source_ = FrameSource::call_frame_info;
    uint64_t cfa = (rule->cfa_register == kDwarfRsp ? s.sp : s.bp) + static_cast<uint64_t>(rule->cfa_offset);
    auto ip = deref(cfa + static_cast<uint64_t>(rule->return_address_offset));
    if (!ip) return why = "return address at " + hex(cfa + rule->return_address_offset) + " is off the stack", std::nullopt;
    State next;
    next.ip = *ip;
    next.sp = cfa;
    next.bp = s.bp;
    if (rule->rbp_offset) {
      auto bp = deref(cfa + static_cast<uint64_t>(*rule->rbp_offset));
      if (!bp) return why = "saved frame pointer off the stack at " + hex(s.ip), std::nullopt;
      next.bp = *bp;
    }
    if (next.sp <= s.sp) return why = "stack going in the wrong direction at " + hex(s.ip), std::nullopt;
    return next;
  }

  // Whether a call instruction ends at `ip`: a return address; a text address that is not one is a
  // function pointer left on the stack (named after the `__pfx_` padding before its function).
  bool after_a_call(uint64_t ip) const {
    if (!disassembler_) return true;
    uint8_t before[7];
    if (ip < sizeof before || !k_.read(ip - sizeof before, before)) return false;
    return disassembler_->call_ends_here(before);
  }

  // The unwind failed: say why, and list the return addresses left on the stack above the last
  // good frame, each marked unreliable.
  void fail(const std::string& why, const State& s) {
    out_.end = why;
    out_.reliable = false;
    uint64_t from = out_.frames.empty() ? s.sp : out_.frames.back().sp;
    close_last(from);
    const StackRange* r = stack_of(from);
    if (!r) return;
    source_ = FrameSource::stack_scan;
    int found = 0;
    for (uint64_t a = (from + 7) & ~uint64_t{7}; a + 8 <= r->high && found < kMaxScanFrames; a += 8) {
      auto v = k_.read_u64(a);
      if (!v || !text_.contains(*v) || !after_a_call(*v)) continue;
      State scanned;
      scanned.ip = *v;
      scanned.sp = a;  // the slot holding the address found
      emit(scanned);
      out_.frames.back().caller_sp = a + 8;
      ++found;
    }
  }

  const Kernel& k_;
  const ModuleList* modules_;
  const x86_64::OrcIndex& orc_;
  const TextRanges& text_;
  const x86_64::Disassembler* disassembler_;
  const LineLookup& lines_;
  const CallFrameLookup& call_frames_;
  std::vector<StackRange> stacks_;
  Backtrace& out_;
  FrameSource source_ = FrameSource::orc;
};

PtRegs regs_from_note(const PrStatus& p) {
  PtRegs r{};
  for (int i = 0; i < kPtRegsCount; ++i) r[i] = p.regs[i];
  return r;
}

}  // namespace

bool user_mode(const PtRegs& regs) { return (regs[kCs] & 3) != 0; }

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

const char* frame_source_name(FrameSource s) {
  switch (s) {
    case FrameSource::registers: return "registers";
    case FrameSource::orc: return "orc";
    case FrameSource::call_frame_info: return "dwarf cfi";
    case FrameSource::frame_pointer: return "frame pointer";
    case FrameSource::stack_scan: return "stack scan";
  }
  return "?";
}

Backtrace Unwinder::backtrace(const Task& task) const {
  Backtrace out;
  out.task = &task;
  Walk walk(objects_.kernel(), modules_, orc_, text_, disassembler_ ? &*disassembler_ : nullptr, lines_, call_frames_,
            tasks_.stacks_of(task), out);
  State s;
  const Cpu* cpu = task.active_on ? tasks_.cpu(*task.active_on) : nullptr;
  if (cpu && cpu->registers) {
    PtRegs regs = regs_from_note(*cpu->registers);
    out.start = "registers of CPU " + std::to_string(cpu->id) + " (NT_PRSTATUS)";
    out.start_regs = regs;
    if (user_mode(regs)) {
      out.user_regs = regs;
      out.end = "user mode";
      return out;
    }
    s.ip = regs[kIp];
    s.sp = regs[kSp];
    s.bp = regs[kBp];
    s.regs = regs;
    s.full_regs = true;
    s.signal = true;
  } else {
    if (task.active_on) out.start = "CPU " + std::to_string(*task.active_on) + " has no registers in the dump; ";
    // __switch_to_asm pushed an inactive_task_frame: r15 r14 r13 r12 bx bp, then the return address.
    const Kernel& k = objects_.kernel();
    auto bp = k.read_u64(task.saved_sp + 5 * 8), ip = k.read_u64(task.saved_sp + 6 * 8);
    out.start += "saved switch frame at thread.sp " + hex(task.saved_sp);
    if (!bp || !ip) {
      out.end = "switch frame unreadable: " + (bp ? ip.error() : bp.error()).message;
      out.reliable = false;
      return out;
    }
    s.sp = task.saved_sp + 7 * 8;
    s.bp = *bp;
    s.ip = *ip;
    auto ret_from_fork = k.symbol_address("ret_from_fork");
    s.signal = ret_from_fork && *ip == *ret_from_fork;
  }
  walk.run(s);
  return out;
}

}  // namespace coroner::linux_kernel
