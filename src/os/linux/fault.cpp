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

// The member of `type` covering `offset`, as "struct coroner_obj.peer" (nested members dotted).
std::string member_at(DebugInfo& debug, const Type* type, uint64_t offset) {
  std::string path;
  const Type* t = strip_typedefs(type);
  for (int depth = 0; t && depth < 8; ++depth) {
    const Member* found = nullptr;
    for (const Member& m : debug.members(t)) {
      uint64_t size = strip_typedefs(m.type) ? strip_typedefs(m.type)->size : 0;
      if (offset >= m.offset && offset < m.offset + std::max<uint64_t>(size, 1)) found = &m;
    }
    if (!found) break;
    path += (path.empty() || found->name.empty() ? "" : ".") + found->name;
    offset -= found->offset;
    const Type* inner = strip_typedefs(found->type);
    if (!inner || (inner->kind != TypeKind::structure && inner->kind != TypeKind::union_type)) break;
    t = inner;
  }
  return path.empty() ? "" : type_name(type) + "." + path;
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
    for (size_t i = before; i-- > 0;) {
      if (writes(code_[i], reg)) return i;
    }
    return std::nullopt;
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

}  // namespace

ValueMeaning value_meaning(LinuxView& view, Slub* slub, const PoisonCatalog& poison, uint64_t v) {
  if (v < kNullPage) return {"null", "NULL + " + hex(v), std::nullopt};
  if (auto m = poison.match_scalar(v, 8, "linux")) {
    return {"poison", m->pattern->name + (m->delta ? " + " + hex(m->delta) : "") + ": " + m->pattern->meaning, std::nullopt};
  }
  if (!canonical(v)) return {"non-canonical", "a non-canonical address (no pattern in the poison catalog)", std::nullopt};
  WhatIs w = what_is(view, slub, v);
  return {address_kind_name(w.kind), w.summary, w.slab};
}

std::optional<FaultExplanation> explain_fault(LinuxView& view, Slub* slub, const PoisonCatalog& poison,
                                              const Backtrace& bt) {
  FaultExplanation out;
  for (const Frame& f : bt.frames) {
    if (f.regs && !user_mode(*f.regs) && f.regs_address && f.regs->size() > 16) {
      out.frame = &f;
      out.regs = *f.regs;
      break;
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
  if (!out.faulting->memory) {
    out.findings.push_back("RIP " + where + ": `" + out.faulting->text() + "` touches no memory");
    return out;
  }
  Tracer tracer(view, slub, poison, code, fault, out.regs);
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
