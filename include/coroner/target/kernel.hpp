#pragma once
// One crashed kernel: the dump, its VMCOREINFO, its symbols (the vmlinux's when given and
// matching, else kallsyms from the dump),
// KASLR, and virtual memory read through the dump's own page tables. Everything that reads kernel
// memory goes through here.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coroner/arch/x86_64_paging.hpp"
#include "coroner/debuginfo/debug_locator.hpp"
#include "coroner/debuginfo/elf_symbols.hpp"
#include "coroner/debuginfo/kallsyms.hpp"
#include "coroner/dump/dump.hpp"
#include "coroner/dump/vmcoreinfo.hpp"

namespace coroner {

enum class VmlinuxMatch { not_given, match, mismatch, unverified };
const char* vmlinux_match_name(VmlinuxMatch m);

struct VmlinuxCheck {
  VmlinuxMatch verdict = VmlinuxMatch::not_given;
  std::string method;  // "build-id", "linux_banner"
  std::string dump_build_id, vmlinux_build_id;
  std::string detail;  // what differs, and what to do
  std::string path;    // the vmlinux read, given or found
  std::string found_by;             // how it was found, when not given: "build-id ... under /usr/lib/debug/.build-id"
  std::vector<std::string> tried;   // where it was looked for, when not given, and why each was not it
};

// How the kernel's layout was found (for `info` and for error messages).
struct KernelLayout {
  uint64_t kaslr_offset = 0;
  std::string kaslr_source;      // "VMCOREINFO KERNELOFFSET", "IDT base vs idt_table", "none"
  std::optional<uint64_t> phys_base;
  std::string phys_base_source;
  uint64_t page_table_root = 0;  // physical
  std::string page_table_source;
  int paging_levels = 4;
  uint64_t page_size = 4096;
};

struct KernelOpenOptions {
  std::string dump_path;
  std::optional<std::string> vmlinux_path;
  // Without a vmlinux_path: where to look for the dump's own (by its build-id and release).
  std::optional<DebugSearch> find_vmlinux;
};

class Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> open(const KernelOpenOptions& options);
  // Over a dump already open (from a buffer, in tests and fuzzing).
  static Result<std::unique_ptr<Kernel>> open(std::unique_ptr<Dump> dump,
                                              const std::optional<std::string>& vmlinux_path,
                                              const std::optional<DebugSearch>& find_vmlinux = std::nullopt);

  const Dump& dump() const { return *dump_; }
  const VmcoreInfo& vmcoreinfo() const { return vmcoreinfo_; }
  const KernelLayout& layout() const { return layout_; }
  const VmlinuxCheck& vmlinux_check() const { return vmlinux_check_; }
  // The kernel's symbols: the vmlinux's, when one was given or found and does not contradict the
  // dump; else, when none was, kallsyms read from the dump (on first use: `log` never needs them);
  // else null.
  const SymbolTable* symbols() const;
  // Why kallsyms could not be read from the dump, when they were wanted and could not be.
  const std::string& kallsyms_problem() const;
  // Problems met while opening (missing notes, an unverifiable layout...), for the user.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // A kernel symbol's run-time address: vmlinux first, then VMCOREINFO's SYMBOL().
  std::optional<uint64_t> symbol_address(std::string_view name) const;
  std::string describe_address(uint64_t address) const;

  Result<uint64_t> translate(uint64_t vaddr) const;
  Status read(uint64_t vaddr, std::span<uint8_t> out) const;
  template <class T>
  Result<T> read_value(uint64_t vaddr) const {
    T v{};
    auto st = read(vaddr, {reinterpret_cast<uint8_t*>(&v), sizeof v});
    if (!st) return st.error();
    return v;
  }
  Result<uint64_t> read_u64(uint64_t vaddr) const { return read_value<uint64_t>(vaddr); }
  Result<uint32_t> read_u32(uint64_t vaddr) const { return read_value<uint32_t>(vaddr); }
  // A NUL-terminated string of at most `max` bytes.
  Result<std::string> read_c_string(uint64_t vaddr, size_t max = 4096) const;

 private:
  Kernel() = default;
  void find_layout();
  void find_kaslr_without_vmcoreinfo();
  void check_vmlinux();
  std::optional<std::pair<const Symbol*, std::string>> banner_from_dump() const;
  void read_kallsyms() const;

  std::unique_ptr<Dump> dump_;
  VmcoreInfo vmcoreinfo_;
  std::unique_ptr<ElfSymbols> symbols_;
  bool symbols_usable_ = false;
  bool kallsyms_wanted_ = false;  // no vmlinux was given or found
  mutable bool kallsyms_read_ = false;
  mutable std::unique_ptr<Kallsyms> kallsyms_;
  mutable std::string kallsyms_problem_;
  KernelLayout layout_;
  VmlinuxCheck vmlinux_check_;
  std::unique_ptr<x86_64::PageTableWalker> walker_;
  std::vector<std::string> warnings_;
};

}  // namespace coroner
