#include "coroner/target/kernel.hpp"

#include <algorithm>

#include "coroner/format.hpp"

namespace coroner {
namespace {

constexpr uint64_t kPhysAddrMask = 0x000ffffffffff000ull;
constexpr uint64_t kPtiUserPgdBit = 0x1000;  // PTI: the user PGD is the kernel's plus one page
constexpr uint64_t kCr4La57 = 1ull << 12;
constexpr uint64_t kKaslrAlign = 0x200000;  // CONFIG_PHYSICAL_ALIGN

}  // namespace

const char* vmlinux_match_name(VmlinuxMatch m) {
  switch (m) {
    case VmlinuxMatch::not_given: return "not given";
    case VmlinuxMatch::match: return "match";
    case VmlinuxMatch::mismatch: return "MISMATCH";
    case VmlinuxMatch::unverified: return "unverified";
  }
  return "?";
}

Result<std::unique_ptr<Kernel>> Kernel::open(const KernelOpenOptions& options) {
  auto dump = open_dump(options.dump_path);
  if (!dump) return dump.error();
  return open(std::move(*dump), options.vmlinux_path, options.find_vmlinux);
}

Result<std::unique_ptr<Kernel>> Kernel::open(std::unique_ptr<Dump> dump,
                                             const std::optional<std::string>& given,
                                             const std::optional<DebugSearch>& find_vmlinux) {
  std::unique_ptr<Kernel> k(new Kernel());
  k->dump_ = std::move(dump);
  k->vmcoreinfo_ = VmcoreInfo(k->dump_->notes().vmcoreinfo);
  for (const auto& p : k->dump_->notes().problems) k->warnings_.push_back(p);
  std::optional<std::string> vmlinux_path = given;
  if (!vmlinux_path && find_vmlinux) {
    // The dump names its kernel's build-id and release in VMCOREINFO; a dump without them
    // (a model kernel's) finds nothing.
    std::string build_id(k->vmcoreinfo_.build_id().value_or(""));
    std::string release(k->vmcoreinfo_.osrelease().value_or(""));
    DebugLookup lookup = locate_vmlinux(build_id, release, *find_vmlinux);
    k->vmlinux_check_.tried = std::move(lookup.tried);
    if (lookup.found) {
      vmlinux_path = lookup.found->path;
      k->vmlinux_check_.found_by = lookup.found->how;
    }
  }
  if (vmlinux_path) {
    k->vmlinux_check_.path = *vmlinux_path;
    auto syms = ElfSymbols::open(*vmlinux_path);
    if (!syms) return syms.error();
    k->symbols_ = std::move(*syms);
    k->symbols_usable_ = true;
  }
  k->find_layout();
  k->check_vmlinux();
  k->kallsyms_wanted_ = !vmlinux_path;
  return k;
}

void Kernel::find_layout() {
  const auto& qemu = dump_->notes().qemu_cpus;
  KernelLayout& L = layout_;
  L.page_size = vmcoreinfo_.page_size().value_or(4096);
  if (auto l5 = vmcoreinfo_.number("pgtable_l5_enabled")) {
    L.paging_levels = *l5 ? 5 : 4;
  } else if (!qemu.empty() && (qemu[0].cr[4] & kCr4La57)) {
    L.paging_levels = 5;
  }
  auto kernel_offset = vmcoreinfo_.kernel_offset();
  if (kernel_offset) {
    L.kaslr_offset = *kernel_offset;
    L.kaslr_source = "VMCOREINFO KERNELOFFSET";
  }
  if (auto pb = vmcoreinfo_.number("phys_base")) {
    L.phys_base = static_cast<uint64_t>(*pb);
    L.phys_base_source = "VMCOREINFO";
  } else if (dump_->header().phys_base && dump_->header().producer == DumpProducer::makedumpfile) {
    // QEMU fills this field with a guess (0) when the guest gave it no VMCOREINFO.
    L.phys_base = dump_->header().phys_base;
    L.phys_base_source = "kdump header";
  }
  uint64_t sme_mask = static_cast<uint64_t>(vmcoreinfo_.number("sme_mask").value_or(0));
  auto top = vmcoreinfo_.symbol("init_top_pgt");
  bool have_root = true;
  if (top && L.phys_base && *top >= x86_64::kStartKernelMap) {
    L.page_table_root = *top - x86_64::kStartKernelMap + *L.phys_base;
    L.page_table_source = "VMCOREINFO init_top_pgt";
  } else if (!qemu.empty()) {
    L.page_table_root = qemu[0].cr[3] & kPhysAddrMask & ~kPtiUserPgdBit;
    L.page_table_source = "CR3 of CPU 0 (QEMU note)";
  } else {
    have_root = false;
    L.page_table_source = "none";
    if (!dump_->has_virtual_segments()) {
      warnings_.push_back("no page-table root: VMCOREINFO lacks init_top_pgt and no QEMU CPU note "
                          "gives CR3; kernel virtual addresses cannot be read");
    }
  }
  if (have_root) {
    walker_ = std::make_unique<x86_64::PageTableWalker>(*dump_, L.page_table_root, L.paging_levels, sme_mask);
  }
  if (symbols_) {
    if (!kernel_offset) find_kaslr_without_vmcoreinfo();
    symbols_->set_kaslr_offset(L.kaslr_offset);
    if (!L.phys_base && walker_) {
      if (auto text = symbols_->address_of("_text")) {
        if (auto t = walker_->translate(*text)) {
          L.phys_base = t->paddr - (*text - x86_64::kStartKernelMap);
          L.phys_base_source = "page tables (_text)";
        }
      }
    }
  }
}

// QEMU dumps of guests without the vmcoreinfo device: IDT vector 0 holds the run-time address of
// asm_exc_divide_error; the vmlinux holds its link-time one. (The IDTR itself points at the fixed
// CPU entry area, so its base says nothing about KASLR.) check_vmlinux() then confirms the result
// by comparing linux_banner.
void Kernel::find_kaslr_without_vmcoreinfo() {
  const auto& qemu = dump_->notes().qemu_cpus;
  const Symbol* handler = symbols_->find("asm_exc_divide_error");
  layout_.kaslr_source = "none (no VMCOREINFO, no IDT to measure it from): assuming 0";
  if (qemu.empty() || !handler || !walker_) return;
  struct {
    uint16_t offset_low, segment, bits, offset_middle;
    uint32_t offset_high, reserved;
  } gate{};
  auto st = read(qemu[0].idt_base, {reinterpret_cast<uint8_t*>(&gate), sizeof gate});
  if (!st) {
    warnings_.push_back("cannot read the IDT at " + hex(qemu[0].idt_base) + ": " + st.error().message);
    return;
  }
  uint64_t target = gate.offset_low | (uint64_t{gate.offset_middle} << 16) | (uint64_t{gate.offset_high} << 32);
  uint64_t offset = target - handler->address;
  if (target < handler->address || offset % kKaslrAlign != 0) {
    warnings_.push_back("IDT vector 0 points at " + hex(target) + ", not asm_exc_divide_error (" +
                        hex(handler->address) + ") plus an aligned KASLR offset; assuming no KASLR");
    layout_.kaslr_source = "none (IDT unusable): assuming 0";
    return;
  }
  layout_.kaslr_offset = offset;
  layout_.kaslr_source = "IDT vector 0 vs asm_exc_divide_error";
}

// The kernel's version text, the same in the vmlinux and in memory: Linux's linux_banner,
// FreeBSD's version[], illumos's struct utsname. Returns the symbol and the dump's bytes of it.
std::optional<std::pair<const Symbol*, std::string>> Kernel::banner_from_dump() const {
  for (const char* name : {"linux_banner", "version", "utsname"}) {
    const Symbol* sym = symbols_->find(name);
    auto addr = symbols_->address_of(name);
    if (!sym || !addr) continue;
    if (std::string_view(name) == "linux_banner" || !sym->size) {
      auto s = read_c_string(*addr, 512);
      if (s) return std::pair{sym, *s};
      continue;
    }
    std::string bytes(std::min<uint64_t>(sym->size, 512), '\0');
    if (read(*addr, {reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()})) return std::pair{sym, bytes};
  }
  return std::nullopt;
}

void Kernel::check_vmlinux() {
  VmlinuxCheck& c = vmlinux_check_;
  c.dump_build_id = std::string(vmcoreinfo_.build_id().value_or(""));
  if (!symbols_) return;
  c.vmlinux_build_id = symbols_->build_id();
  auto fail = [&](std::string detail) {
    c.verdict = VmlinuxMatch::mismatch;
    c.detail = std::move(detail) + ". Symbols from " + symbols_->path() +
               " are not used; give the vmlinux of this exact build (Debian: package "
               "linux-image-<release>-dbg, file /usr/lib/debug/boot/vmlinux-<release>)";
    symbols_usable_ = false;
    warnings_.push_back("vmlinux does not match the dump: " + c.detail);
  };
  if (!c.dump_build_id.empty() && !c.vmlinux_build_id.empty()) {
    c.method = "build-id";
    if (same_build_id(c.dump_build_id, c.vmlinux_build_id)) {
      c.verdict = VmlinuxMatch::match;
    } else {
      fail("the dump's kernel has build-id " + c.dump_build_id + ", the vmlinux has " + c.vmlinux_build_id);
    }
    return;
  }
  c.method = "linux_banner";
  auto banner = banner_from_dump();
  if (!banner) {
    c.verdict = VmlinuxMatch::unverified;
    c.detail = "no build-id in the dump and no version text (linux_banner, version, utsname) readable: cannot tell "
               "whether the vmlinux matches";
    warnings_.push_back(c.detail);
    return;
  }
  const auto& [sym, in_dump] = *banner;
  c.method = std::string(sym->name);
  auto in_file = symbols_->file_bytes(sym->address, in_dump.size());
  if (in_file && *in_file == in_dump) {
    c.verdict = VmlinuxMatch::match;
  } else {
    fail(std::string(sym->name) + " differs: the dump says \"" + escape_bytes(in_dump) + "\"");
  }
}

const SymbolTable* Kernel::symbols() const {
  if (symbols_usable_) return symbols_.get();
  if (kallsyms_wanted_ && !kallsyms_read_) read_kallsyms();
  return kallsyms_.get();
}

const std::string& Kernel::kallsyms_problem() const {
  if (kallsyms_wanted_ && !kallsyms_read_) read_kallsyms();
  return kallsyms_problem_;
}

void Kernel::read_kallsyms() const {
  kallsyms_read_ = true;
  KallsymsTables t;
  std::string missing;
  for (auto [name, field] : {std::pair{"kallsyms_names", &t.names}, std::pair{"kallsyms_num_syms", &t.num_syms},
                             std::pair{"kallsyms_token_table", &t.token_table}, std::pair{"kallsyms_token_index", &t.token_index},
                             std::pair{"kallsyms_offsets", &t.offsets}, std::pair{"kallsyms_relative_base", &t.relative_base}}) {
    if (auto a = vmcoreinfo_.symbol(name)) *field = *a;
    else missing += std::string(missing.empty() ? "" : ", ") + name;
  }
  auto stext = vmcoreinfo_.symbol("_stext");
  if (!stext) missing += std::string(missing.empty() ? "" : ", ") + "_stext";
  if (!missing.empty()) {
    kallsyms_problem_ = "VMCOREINFO lacks SYMBOL(" + missing + ")";
    return;
  }
  auto k = Kallsyms::read(t, [this](uint64_t a, std::span<uint8_t> out) { return read(a, out); }, *stext);
  if (!k) {
    kallsyms_problem_ = k.error().message;
    return;
  }
  kallsyms_ = std::move(*k);
}

std::optional<uint64_t> Kernel::symbol_address(std::string_view name) const {
  // A vmlinux first; without one, VMCOREINFO's run-time addresses answer before kallsyms are
  // decoded for them.
  if (symbols_usable_) {
    if (auto a = symbols_->address_of(name)) return a;
    return vmcoreinfo_.symbol(name);
  }
  if (auto a = vmcoreinfo_.symbol(name)) return a;
  if (const SymbolTable* s = symbols()) return s->address_of(name);
  return std::nullopt;
}

std::string Kernel::describe_address(uint64_t address) const {
  return symbols() ? symbols()->describe(address) : hex(address);
}

Result<uint64_t> Kernel::translate(uint64_t vaddr) const {
  if (!walker_) return make_error("no page tables known to translate " + hex(vaddr));
  auto t = walker_->translate(vaddr);
  if (!t) return t.error();
  return t->paddr;
}

Status Kernel::read(uint64_t vaddr, std::span<uint8_t> out) const {
  if (!walker_) return dump_->read_segment_virtual(vaddr, out);
  uint64_t done = 0;
  while (done < out.size()) {
    uint64_t at = vaddr + done;
    auto t = walker_->translate(at);
    if (!t) return t.error();
    // Within one 4 KiB page: contiguous physically whatever the size of the mapping around it.
    uint64_t n = std::min<uint64_t>(out.size() - done, x86_64::kPageSize - (at & 0xfff));
    auto st = dump_->read_physical(t->paddr, out.subspan(done, n));
    if (!st) {
      return make_error("virtual address " + hex(at) + " (physical " + hex(t->paddr) + "): " + st.error().message,
                        st.error().kind);
    }
    done += n;
  }
  return ok_status();
}

Result<std::string> Kernel::read_c_string(uint64_t vaddr, size_t max) const {
  std::string s;
  char chunk[64];
  while (s.size() < max) {
    size_t n = std::min<size_t>(sizeof chunk, max - s.size());
    n = std::min<size_t>(n, x86_64::kPageSize - ((vaddr + s.size()) & 0xfff));  // stop at page ends
    auto st = read(vaddr + s.size(), {reinterpret_cast<uint8_t*>(chunk), n});
    if (!st) {
      if (s.empty()) return st.error();
      break;
    }
    auto nul = std::find(chunk, chunk + n, '\0');
    s.append(chunk, nul);
    if (nul != chunk + n) break;
  }
  return s;
}

}  // namespace coroner
