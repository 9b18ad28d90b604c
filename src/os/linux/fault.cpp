#include "coroner/os/linux/fault.hpp"

#include <regex>

#include "coroner/format.hpp"
#include "coroner/os/linux/whatis.hpp"

namespace coroner::linux_kernel {
namespace {

constexpr uint64_t kNullPage = 4096;
constexpr uint64_t kCodeBefore = 4096;  // decode from the function's start when it is this close
constexpr size_t kContext = 6;          // instructions shown after RIP
constexpr int kMaxTrace = 6;

bool canonical(uint64_t v) {
  uint64_t top = v >> 47;
  return top == 0 || top == 0x1ffff;
}

// The destination of an AT&T instruction: its last operand, when it is a register.
std::string destination_register(const x86_64::Instruction& in) {
  std::string ops = in.operands;
  size_t comma = ops.rfind(',');
  std::string last = comma == std::string::npos ? ops : ops.substr(comma + 1);
  while (!last.empty() && last.front() == ' ') last.erase(0, 1);
  if (last.empty() || last[0] != '%') return "";
  if (comma == std::string::npos && in.mnemonic != "pop" && in.mnemonic != "popq" && in.mnemonic != "inc" &&
      in.mnemonic != "dec" && in.mnemonic != "neg" && in.mnemonic != "not") {
    return "";
  }
  return x86_64::full_register(last.substr(1));
}

bool changes_stack_pointer(const x86_64::Instruction& in) {
  static const char* kStack[] = {"push", "pushq", "pop", "popq", "call", "callq", "ret", "retq", "leave", "leaveq", "enter"};
  for (const char* m : kStack) {
    if (in.mnemonic == m) return true;
  }
  return destination_register(in) == "rsp";
}

bool writes(const x86_64::Instruction& in, const std::string& reg) {
  if (reg == "rsp") return changes_stack_pointer(in);
  if (in.mnemonic.starts_with("call")) return reg == "rax" || reg == "rcx" || reg == "rdx" || reg == "rsi" ||
                                               reg == "rdi" || reg == "r8" || reg == "r9" || reg == "r10" || reg == "r11";
  return destination_register(in) == reg;
}

// The source register of a 64-bit register-to-register move (`mov %rdi, %rbx` -> "rdi").
std::optional<std::string> copied_from(const x86_64::Instruction& in) {
  static const std::regex kMove(R"(^%(r\w+), %(r\w+)$)");
  std::smatch m;
  if (in.memory || (in.mnemonic != "mov" && in.mnemonic != "movq") || !std::regex_match(in.operands, m, kMove)) {
    return std::nullopt;
  }
  return m[1].str();
}

bool is_load(const x86_64::Instruction& in) {
  return in.memory && (in.mnemonic == "mov" || in.mnemonic == "movq") && in.memory->size == 8;
}

bool is_conditional_jump(const x86_64::Instruction& in) {
  return in.mnemonic.size() > 1 && in.mnemonic[0] == 'j' && !in.mnemonic.starts_with("jmp");
}

std::optional<uint64_t> jump_target(const x86_64::Instruction& in) {
  static const std::regex kTarget(R"(^\$?0x([0-9a-f]+)$)");
  std::smatch m;
  if (!std::regex_match(in.operands, m, kTarget)) return std::nullopt;
  return std::stoull(m[1].str(), nullptr, 16);
}

// The registers an AT&T instruction names ("%eax, %eax" -> rax), as 64-bit names.
std::vector<std::string> registers_named(const x86_64::Instruction& in) {
  static const std::regex kRegister(R"(%(\w+))");
  std::vector<std::string> out;
  for (std::sregex_iterator it(in.operands.begin(), in.operands.end(), kRegister), end; it != end; ++it) {
    out.push_back(x86_64::full_register((*it)[1].str()));
  }
  return out;
}

std::optional<size_t> last_writer(const std::vector<x86_64::Instruction>& code, const std::string& reg, size_t before) {
  for (size_t i = before; i-- > 0;) {
    if (writes(code[i], reg)) return i;
  }
  return std::nullopt;
}

// A BUG_ON() traps on ud2 that a conditional jump leads to (or jumps over); the flags it tested come
// from the test or cmp just before that jump, which reads memory itself or a register a load
// filled. That read is what the failed check was about: its instruction's index.
std::optional<size_t> failed_check_read(const std::vector<x86_64::Instruction>& code, size_t trap) {
  std::optional<size_t> jump;
  for (size_t i = 0; i < trap; ++i) {
    if (is_conditional_jump(code[i]) && jump_target(code[i]) == code[trap].address) jump = i;
  }
  if (!jump && trap > 0 && is_conditional_jump(code[trap - 1])) jump = trap - 1;
  if (!jump) return std::nullopt;
  for (size_t k = *jump; k-- > 0 && *jump - k <= 8;) {
    const auto& in = code[k];
    if (!in.mnemonic.starts_with("test") && !in.mnemonic.starts_with("cmp")) continue;
    if (in.memory) return k;
    for (const std::string& r : registers_named(in)) {
      auto j = last_writer(code, r, k);
      if (j && code[*j].memory && code[*j].mnemonic.starts_with("mov") && !code[*j].mnemonic.starts_with("movabs")) return j;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

// The member of `type` covering `offset`, as "struct coroner_obj.peer" (nested members dotted).
std::string member_at(DebugInfo& debug, const Type* type, uint64_t offset) {
  auto m = debug.member_at(type, offset);
  return m ? type_name(type) + "." + m->path : "";
}

class Tracer {
 public:
  Tracer(LinuxView& view, Slub* slub, const PoisonCatalog& poison, const std::vector<x86_64::Instruction>& code,
         size_t fault, const PtRegs& regs)
      : view_(view), slub_(slub), poison_(poison), code_(code), fault_(fault), regs_(regs) {}

  // The register's value just before instruction `at`.
  std::optional<uint64_t> value_before(const std::string& reg, size_t at, int depth = 0) {
    if (reg.empty()) return 0;
    if (reg == "rip") return code_[at].address + code_[at].bytes.size();
    bool written = false;
    for (size_t i = at; i < fault_; ++i) written |= writes(code_[i], reg);
    if (!written) return register_value(regs_, reg);
    auto j = last_writer(reg, at);
    if (!j || depth > kMaxTrace) return std::nullopt;
    // Written without a memory operand: a register copied to another is followed, an arithmetic
    // result is not.
    if (!code_[*j].memory) {
      auto source = copied_from(code_[*j]);
      return source ? value_before(*source, *j, depth + 1) : std::nullopt;
    }
    auto address = address_of(*j, depth + 1);
    if (!address) return std::nullopt;
    if (!is_load(code_[*j])) return code_[*j].mnemonic.starts_with("lea") ? address : std::nullopt;
    auto v = view_.objects().kernel().read_u64(*address);
    return v ? std::optional<uint64_t>(*v) : std::nullopt;
  }

  // Where `reg` (as used by instruction `at`) came from, one load at a time.
  std::vector<Provenance> trace(const std::string& reg, size_t at) {
    std::vector<Provenance> out;
    std::string r = reg;
    for (int depth = 0; depth < kMaxTrace && !r.empty() && r != "rsp" && r != "rip"; ++depth) {
      auto j = last_writer(r, at);
      if (!j) break;
      if (auto source = copied_from(code_[*j])) {  // `mov %rdi, %rbx`: trace rdi from there
        r = *source;
        at = *j;
        continue;
      }
      if (!is_load(code_[*j]) || !code_[*j].memory) break;
      Provenance p;
      p.reg = r;
      p.instruction = code_[*j];
      p.address = address_of(*j, 0);
      auto value = value_before(r, *j + 1);
      p.value = value.value_or(0);
      if (p.address) {
        p.address_meaning = value_meaning(view_, slub_, poison_, *p.address);
        if (p.address_meaning.slab) p.member = slab_member(*p.address_meaning.slab);
      }
      out.push_back(std::move(p));
      r = code_[*j].memory->base;
      at = *j;
    }
    return out;
  }

  std::optional<uint64_t> address_of(size_t i, int depth) {
    if (!code_[i].memory) return std::nullopt;
    const auto& m = *code_[i].memory;
    auto base = value_before(m.base, i, depth);
    auto index = value_before(m.index, i, depth);
    if (!base || !index) return std::nullopt;
    return *base + *index * static_cast<uint64_t>(m.scale) + static_cast<uint64_t>(m.displacement);
  }

  std::string slab_member(const SlabObject& o) {
    if (o.part != "object") return "";
    auto type = view_.objects().debug().find_type("struct " + o.cache->name);
    return type ? member_at(view_.objects().debug(), *type, static_cast<uint64_t>(o.offset)) : "";
  }

 private:
  std::optional<size_t> last_writer(const std::string& reg, size_t before) const {
    return coroner::linux_kernel::last_writer(code_, reg, before);
  }

  LinuxView& view_;
  Slub* slub_;
  const PoisonCatalog& poison_;
  const std::vector<x86_64::Instruction>& code_;
  size_t fault_;
  const PtRegs& regs_;
};

std::string at_code(LinuxView& view, uint64_t address) {
  return locate_code(view.objects().kernel(), &view.modules(), address).text(address);
}

// The object a BUG_ON()'s failed check read, when the code before the ud2 says which.
void explain_check(LinuxView& view, Slub* slub, const PoisonCatalog& poison, const std::vector<x86_64::Instruction>& code,
                   size_t trap, Tracer& tracer, FaultExplanation& out) {
  auto read = failed_check_read(code, trap);
  if (!read) return;
  const x86_64::Instruction& in = code[*read];
  out.checked = tracer.address_of(*read, 0);
  out.checked_by = in;
  if (!out.checked) {
    out.findings.push_back("the failed check tested what `" + in.text() + "` at " + at_code(view, in.address) +
                           " read, from an address the saved registers do not give");
    return;
  }
  out.checked_meaning = value_meaning(view, slub, poison, *out.checked);
  std::string member = out.checked_meaning.slab ? tracer.slab_member(*out.checked_meaning.slab) : "";
  out.findings.push_back("the failed check tested what `" + in.text() + "` at " + at_code(view, in.address) + " read from " +
                         hex(*out.checked) + ": " + out.checked_meaning.text + (member.empty() ? "" : " (" + member + ")"));
}

}  // namespace

ValueMeaning value_meaning(LinuxView& view, Slub* slub, const PoisonCatalog& poison, uint64_t v) {
  if (v < kNullPage) return {AddressKind::null, "NULL + " + hex(v), "", std::nullopt};
  if (auto m = poison.match_scalar(v, 8, "linux")) {
    return {AddressKind::poison, m->pattern->name + (m->delta ? " + " + hex(m->delta) : "") + ": " + m->pattern->meaning,
            m->pattern->name, std::nullopt};
  }
  if (!canonical(v)) {
    return {AddressKind::non_canonical, "a non-canonical address (no pattern in the poison catalog)", "", std::nullopt};
  }
  Identity w = what_is(view, slub, v);
  return {w.kind, w.summary, "", w.slab};
}

std::optional<std::string> reported_oops_location(const KernelLog& log) {
  // The report's first line, then its "RIP: 0010:func+0x1f/0x40 [module]" (older kernels put the
  // address in brackets before the name).
  static const std::regex kOops(R"(^(Oops: |general protection fault|BUG: unable to handle|BUG: kernel NULL pointer|kernel BUG at |invalid opcode: |stack segment: |divide error: ))");
  static const std::regex kRip(R"(^RIP: 0010:(?:\[<[0-9a-f]+>\]\s*)*(\S+\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[[^\]]+\])?))");
  std::optional<std::string> out;
  bool in_report = false;
  for (const LogRecord& r : log.records) {
    std::smatch m;
    if (std::regex_search(r.text, kOops)) {
      in_report = true;
      out.reset();
    } else if (in_report && !out && std::regex_search(r.text, m, kRip)) {
      out = m[1].str();
    }
  }
  return out;
}

std::optional<FaultExplanation> explain_fault(LinuxView& view, Slub* slub, const PoisonCatalog& poison,
                                              const Backtrace& bt, const KernelLog* log) {
  FaultExplanation out;
  for (const Frame& f : bt.frames) {
    if (f.regs && !user_mode(*f.regs) && f.regs_address && f.regs->size() > 16) {
      out.frame = &f;
      out.regs = *f.regs;
      out.regs_from = "the pt_regs at " + hex(*f.regs_address);
      break;
    }
  }
  if (!out.frame && bt.start_regs && !user_mode(*bt.start_regs) && !bt.frames.empty() && log) {
    const Frame& first = bt.frames.front();
    auto reported = reported_oops_location(*log);
    if (reported && first.where.text(first.pc) == *reported) {
      out.frame = &first;
      out.regs = *bt.start_regs;
      out.regs_from = "the crashing CPU's registers in the dump, which oops_end() handed to crash_kexec() (the "
                      "log's oops reports the same RIP, " + *reported + ")";
      out.findings.push_back("the exception's registers are " + out.regs_from);
    }
  }
  if (!out.frame) return std::nullopt;
  const Kernel& k = view.objects().kernel();
  uint64_t rip = *register_value(out.regs, "rip");
  out.where = locate_code(k, &view.modules(), rip);
  uint64_t start = !out.where.function.empty() && out.where.offset < kCodeBefore ? rip - out.where.offset : rip;
  std::vector<uint8_t> bytes(rip - start + 64);
  ObjectBytes read = view.objects().read_object(start, bytes.size());
  size_t readable = read.readable_prefix();
  auto disassembler = x86_64::Disassembler::create();
  if (!disassembler) {
    out.findings.push_back(disassembler.error().message);
    return out;
  }
  auto code = disassembler->decode({read.data.data(), readable}, start, 4096);
  size_t fault = code.size();
  for (size_t i = 0; i < code.size(); ++i) {
    if (code[i].address == rip) fault = i;
  }
  if (fault == code.size()) {
    // RIP is not on an instruction boundary decoding from `start` gives: decode from RIP itself.
    code = disassembler->decode({read.data.data() + (rip - start), readable > rip - start ? readable - (rip - start) : 0},
                                rip, kContext + 1);
    fault = 0;
  }
  if (code.empty()) {
    out.findings.push_back("the code at RIP " + hex(rip) + " is not in the dump");
    return out;
  }
  size_t first = fault > kContext ? fault - kContext : 0;
  out.code.assign(code.begin() + static_cast<long>(first), code.begin() + static_cast<long>(std::min(code.size(), fault + kContext)));
  out.faulting = code[fault];
  std::string where = at_code(view, rip);
  Tracer tracer(view, slub, poison, code, fault, out.regs);
  if (!out.faulting->memory) {
    out.findings.push_back("RIP " + where + ": `" + out.faulting->text() + "` touches no memory");
    if (out.faulting->mnemonic == "ud2") explain_check(view, slub, poison, code, fault, tracer, out);
    return out;
  }
  const auto& m = *out.faulting->memory;
  out.address = tracer.address_of(fault, 0);
  std::string operand = m.base.empty() ? hex(static_cast<uint64_t>(m.displacement)) : m.base;
  if (!m.base.empty() && m.displacement) operand += " " + std::string(m.displacement < 0 ? "- " : "+ ") +
                                                      hex(static_cast<uint64_t>(m.displacement < 0 ? -m.displacement : m.displacement));
  out.findings.push_back("RIP " + where + ": `" + out.faulting->text() + "` accesses " + std::to_string(m.size) +
                         " bytes at " + (out.address ? hex(*out.address) : "an address the saved registers do not give") +
                         " (" + operand + ")");
  if (out.address) {
    out.address_meaning = value_meaning(view, slub, poison, *out.address);
    out.findings.push_back("that address is " + out.address_meaning.text);
  }
  if (!m.base.empty() && m.base != "rip") {
    auto base = tracer.value_before(m.base, fault);
    if (base) {
      out.base_meaning = value_meaning(view, slub, poison, *base);
      out.findings.push_back(m.base + " = " + hex(*base) + ": " + out.base_meaning.text);
      if (out.base_meaning.slab) out.member = tracer.slab_member(*out.base_meaning.slab);
    }
    out.chain = tracer.trace(m.base, fault);
    for (const Provenance& p : out.chain) {
      out.findings.push_back(p.reg + " was loaded by `" + p.instruction.text() + "` at " +
                             at_code(view, p.instruction.address) + " from " +
                             (p.address ? hex(*p.address) + ": " + p.address_meaning.text : "an unknown address") +
                             (p.member.empty() ? "" : " (" + p.member + ")"));
    }
  }
  return out;
}

}  // namespace coroner::linux_kernel
