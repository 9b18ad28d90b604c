#include "coroner/target/unwinder.hpp"

#include <set>

#include "coroner/format.hpp"

namespace coroner {
namespace {

using x86_64::OrcEntry;
using x86_64::OrcReg;
using x86_64::OrcType;
using x86_64::PtRegs;
namespace slot = x86_64::pt_regs_slot;

constexpr int kMaxFrames = 256;
constexpr int kMaxScanFrames = 64;
constexpr uint64_t kCallSiteScanBytes = 4096;  // a frame larger than a page is not looked through

struct State {
  uint64_t ip = 0, sp = 0, bp = 0;
  bool exact_ip = false;  // ip is where execution was interrupted, not a return address
  std::optional<uint64_t> regs_address;
  std::optional<PtRegs> regs;  // full registers known for this frame
  std::optional<PtRegs> prev_regs;
  bool full_regs = false;
};

class Walk {
 public:
  Walk(const Kernel& kernel, const CodeView& code, const x86_64::Disassembler* disassembler,
       std::vector<StackRange> stacks, Backtrace& out)
      : k_(kernel), code_(code), disassembler_(disassembler), stacks_(std::move(stacks)), out_(out) {}

  void run(State s) {
    for (int n = 0; n < kMaxFrames; ++n) {
      if (s.regs && x86_64::user_mode(*s.regs)) {
        out_.user_regs = s.regs;
        out_.end = "user mode";
        return close_last(s.sp);
      }
      if (!code_.is_text(s.ip)) return fail("return address " + hex(s.ip) + " is not kernel text", s);
      emit(s);
      std::string why;
      auto next = step(s, why);
      if (!next && why.empty()) {
        out_.end = "end of stack";
        return close_last(s.sp);
      }
      if (next && why.empty()) why = check_direction(s, *next);
      if (!why.empty()) return fail(why, s);
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
    f.bp = s.bp;
    if (const StackRange* r = stack_of(s.sp)) f.stack = r->kind;
    f.source = out_.frames.empty() && s.regs ? FrameSource::registers : source_;
    f.reliable = f.source != FrameSource::frame_pointer && f.source != FrameSource::stack_scan;
    f.regs_address = s.regs_address;
    if (s.regs_address) f.regs = s.regs;
    if (code_.locate) f.where = code_.locate(s.ip, !s.exact_ip);
    if (code_.line) f.line = code_.line(s.exact_ip ? s.ip : s.ip - 1);
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

  // On one stack each caller's frame is above its callee's; a stack, once left, is not returned to
  // (the kernel's own unwinder keeps the same rule with its visit mask).
  std::string check_direction(const State& s, const State& next) {
    const StackRange* before = stack_of(s.sp);
    const StackRange* after = stack_of(next.sp);
    if (before && before == after && next.sp <= s.sp) return "stack going in the wrong direction at " + hex(s.ip);
    if (before && after && before != after) {
      left_.insert(before);
      if (left_.contains(after)) return "back on the " + after->kind + " stack it had left, at " + hex(s.ip);
    }
    return {};
  }

  // The caller of the frame at `s`, by the best rule there is for its code; nullopt with an empty
  // `why` at the end of the stack.
  std::optional<State> step(const State& s, std::string& why) {
    uint64_t lookup = s.exact_ip ? s.ip : s.ip - 1;
    if (const OrcEntry* orc = code_.orc ? code_.orc->find(lookup) : nullptr) return step_by_orc(*orc, s, why);
    out_.reliable = out_.reliable && code_.orc == nullptr;  // code the ORC tables should have covered
    if (auto next = step_by_call_frame_info(s, why); next || !why.empty()) return next;
    return step_by_frame_pointer(s, why);
  }

  std::optional<State> step_by_orc(const OrcEntry& orc, const State& s, std::string& why) {
    source_ = FrameSource::orc;
    if (orc.sp_reg == OrcReg::undefined || orc.type == OrcType::end_of_stack) {
      if (orc.end || orc.type == OrcType::end_of_stack) return std::nullopt;
      if (auto next = step_by_call_frame_info(s, why); next || !why.empty()) return next;
      if (auto next = step_by_call_site(s)) return next;
      why = "no unwind data for " + hex(s.ip);
      return std::nullopt;
    }
    std::optional<uint64_t> sp;
    bool indirect = false;
    switch (orc.sp_reg) {
      case OrcReg::sp: sp = s.sp + orc.sp_offset; break;
      case OrcReg::bp: sp = s.bp + orc.sp_offset; break;
      // Since 5.12 the slot is at sp itself and the offset is added after the load.
      case OrcReg::sp_indirect: sp = s.sp; indirect = true; break;
      case OrcReg::bp_indirect: sp = s.bp + orc.sp_offset; indirect = true; break;
      case OrcReg::r10: sp = get_reg(s, slot::r10); break;
      case OrcReg::r13: sp = get_reg(s, slot::r13); break;
      case OrcReg::di: sp = get_reg(s, slot::di); break;
      case OrcReg::dx: sp = get_reg(s, slot::dx); break;
      default: break;
    }
    if (!sp) return why = "cannot find the caller's stack pointer at " + hex(s.ip), std::nullopt;
    if (indirect && !(sp = deref(*sp))) return why = "stack pointer slot off the stack at " + hex(s.ip), std::nullopt;
    if (orc.sp_reg == OrcReg::sp_indirect) *sp += orc.sp_offset;
    auto next = caller_by_orc_type(orc, s, *sp, why);
    if (!next) return std::nullopt;
    if (!restore_bp_by_orc(orc, s, *sp, *next, why)) return std::nullopt;
    return next;
  }

  std::optional<State> caller_by_orc_type(const OrcEntry& orc, const State& s, uint64_t sp, std::string& why) {
    State next;
    switch (orc.type) {
      case OrcType::call: {
        auto ip = deref(sp - 8);
        if (!ip) return why = "return address at " + hex(sp - 8) + " is off the stack", std::nullopt;
        next.ip = *ip;
        next.sp = sp;
        return next;
      }
      case OrcType::regs: {
        auto regs = read_regs(sp, 0, x86_64::kPtRegsCount * 8);
        if (!regs) return why = "pt_regs at " + hex(sp) + " are off the stack", std::nullopt;
        next.ip = (*regs)[slot::ip];
        next.sp = (*regs)[slot::sp];
        next.regs_address = sp;
        next.regs = regs;
        next.full_regs = true;
        next.exact_ip = true;
        return next;
      }
      case OrcType::regs_partial: {
        uint64_t base = sp - x86_64::kIretFrameOffset;
        auto regs = read_regs(base, x86_64::kIretFrameOffset, x86_64::kIretFrameSize);
        if (!regs) return why = "IRET frame at " + hex(sp) + " is off the stack", std::nullopt;
        next.ip = (*regs)[slot::ip];
        next.sp = (*regs)[slot::sp];
        if (s.full_regs) next.prev_regs = s.regs;
        next.regs_address = base;
        next.regs = regs;
        next.exact_ip = true;
        return next;
      }
      default:
        return why = "unknown ORC entry type at " + hex(s.ip), std::nullopt;
    }
  }

  bool restore_bp_by_orc(const OrcEntry& orc, const State& s, uint64_t sp, State& next, std::string& why) {
    next.bp = s.bp;
    switch (orc.bp_reg) {
      case OrcReg::undefined:
        if (auto bp = get_reg(next, slot::bp)) next.bp = *bp;
        return true;
      case OrcReg::prev_sp:
      case OrcReg::bp: {
        auto bp = deref((orc.bp_reg == OrcReg::bp ? s.bp : sp) + orc.bp_offset);
        if (!bp) return why = "saved frame pointer off the stack at " + hex(s.ip), false;
        next.bp = *bp;
        return true;
      }
      default:
        return why = "unknown frame pointer rule at " + hex(s.ip), false;
    }
  }

  // The compiler's CFI says where the caller's frame is (code objtool left without ORC entries, or
  // a kernel that has no ORC at all).
  std::optional<State> step_by_call_frame_info(const State& s, std::string& why) {
    auto rule = code_.call_frame_rule ? code_.call_frame_rule(s.exact_ip ? s.ip : s.ip - 1) : std::nullopt;
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
    return next;
  }

  // Code objtool was told to leave alone (STACK_FRAME_NON_STANDARD: __crash_kexec, where kdump
  // saves the registers) has an undefined ORC entry. Without the compiler's CFI, its caller is the
  // first return address above sp whose call instruction calls this very function: a scan the
  // call site vouches for. Only the innermost frame is taken so, where the registers are exact.
  std::optional<State> step_by_call_site(const State& s) {
    if (!disassembler_ || !code_.locate || out_.frames.size() != 1 || !s.exact_ip) return std::nullopt;
    CodeLocation here = code_.locate(s.ip, false);
    const StackRange* r = stack_of(s.sp);
    if (here.function.empty() || !r) return std::nullopt;
    uint64_t start = s.ip - here.offset;
    for (uint64_t a = s.sp & ~uint64_t{7}; a + 8 <= r->high && a < s.sp + kCallSiteScanBytes; a += 8) {
      auto v = k_.read_u64(a);
      uint8_t before[7];
      if (!v || !code_.is_text(*v) || *v < sizeof before || !k_.read(*v - sizeof before, before)) continue;
      if (disassembler_->direct_call_target(before, *v) != start) continue;
      source_ = FrameSource::call_site;
      State next;
      next.ip = *v;
      next.sp = a + 8;
      next.bp = s.bp;
      return next;
    }
    return std::nullopt;
  }

  // No unwind data: the frame pointer chain, [bp] the caller's bp and [bp + 8] the return address.
  // A zero frame pointer ends the chain, as the kernels' own frame-pointer unwinders end it.
  std::optional<State> step_by_frame_pointer(const State& s, std::string& why) {
    source_ = FrameSource::frame_pointer;
    out_.reliable = false;
    if (s.bp == 0) return std::nullopt;
    if (!stack_of(s.bp)) return why = "frame pointer " + hex(s.bp) + " is on none of the thread's stacks (" + stacks_text() + ")", std::nullopt;
    auto bp = deref(s.bp), ip = deref(s.bp + 8);
    if (!bp || !ip) return why = "frame at " + hex(s.bp) + " is off the stack or unreadable", std::nullopt;
    State next;
    next.ip = *ip;
    next.sp = s.bp + 16;
    next.bp = *bp;
    return next;
  }

  std::string stacks_text() const {
    std::string out;
    for (const StackRange& r : stacks_) {
      out += (out.empty() ? "" : ", ") + r.kind + " [" + hex(r.low) + ", " + hex(r.high) + ")";
    }
    return out.empty() ? "none known" : out;
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
      if (!v || !code_.is_text(*v) || !after_a_call(*v)) continue;
      State scanned;
      scanned.ip = *v;
      scanned.sp = a;  // the slot holding the address found
      emit(scanned);
      out_.frames.back().caller_sp = a + 8;
      ++found;
    }
  }

  const Kernel& k_;
  const CodeView& code_;
  const x86_64::Disassembler* disassembler_;
  std::vector<StackRange> stacks_;
  Backtrace& out_;
  FrameSource source_ = FrameSource::orc;
  std::set<const StackRange*> left_;
};

}  // namespace

const char* frame_source_name(FrameSource s) {
  switch (s) {
    case FrameSource::registers: return "registers";
    case FrameSource::orc: return "orc";
    case FrameSource::call_frame_info: return "dwarf cfi";
    case FrameSource::call_site: return "call site";
    case FrameSource::frame_pointer: return "frame pointer";
    case FrameSource::stack_scan: return "stack scan";
  }
  return "?";
}

Unwinder::Unwinder(const Kernel& kernel, CodeView code) : kernel_(kernel), code_(std::move(code)) {
  if (!code_.is_text) code_.is_text = [](uint64_t) { return true; };
  if (auto d = x86_64::Disassembler::create()) disassembler_.emplace(std::move(*d));
}

void Unwinder::unwind(const UnwindStart& start, std::vector<StackRange> stacks, Backtrace& out) const {
  State s;
  s.ip = start.ip;
  s.sp = start.sp;
  s.bp = start.bp;
  s.exact_ip = start.exact_ip;
  s.regs = start.regs;
  s.full_regs = start.regs.has_value();
  Walk(kernel_, code_, disassembler_ ? &*disassembler_ : nullptr, std::move(stacks), out).run(s);
}

}  // namespace coroner
