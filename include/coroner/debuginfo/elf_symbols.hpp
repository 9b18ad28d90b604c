#pragma once
// The kernel image's ELF side: symbol table (name <-> address, with the KASLR offset applied),
// build-id, and the bytes of its sections as linked (e.g. linux_banner, to check a dump matches).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "coroner/result.hpp"

typedef struct Elf Elf;

namespace coroner {

struct Symbol {
  uint64_t address = 0;  // as linked
  uint64_t size = 0;
  std::string_view name;
  bool function = false;
  bool global = false;
};

struct SymbolHit {
  const Symbol* symbol = nullptr;
  uint64_t offset = 0;
  uint64_t size = 0;  // ELF size, or the distance to the next symbol when the ELF says 0
};

class ElfSymbols {
 public:
  static Result<std::unique_ptr<ElfSymbols>> open(const std::string& path);
  ~ElfSymbols();
  ElfSymbols(const ElfSymbols&) = delete;
  ElfSymbols& operator=(const ElfSymbols&) = delete;

  const std::string& path() const { return path_; }
  const std::string& build_id() const { return build_id_; }  // hex; empty when absent
  size_t count() const { return by_address_.size(); }

  // KASLR: symbols in the kernel image (at or above __START_KERNEL_map) move by this much.
  void set_kaslr_offset(uint64_t offset) { kaslr_offset_ = offset; }
  uint64_t kaslr_offset() const { return kaslr_offset_; }
  // Link-time and run-time addresses of a symbol by name.
  const Symbol* find(std::string_view name) const;
  std::optional<uint64_t> address_of(std::string_view name) const;
  // The symbol covering a run-time address.
  std::optional<SymbolHit> lookup(uint64_t runtime_address) const;
  // "func+0x1f/0x40", or the hex address when nothing covers it.
  std::string describe(uint64_t runtime_address) const;
  // Bytes of an allocated section at a link-time address, read from the vmlinux file itself.
  Result<std::string_view> file_bytes(uint64_t link_address, uint64_t length) const;
  uint64_t relocate(const Symbol& s) const;
  // Whether a run-time address is in a section of code (SHF_EXECINSTR): where a return address
  // may point.
  bool in_code(uint64_t runtime_address) const;

 private:
  ElfSymbols() = default;
  Status load(const std::string& path);
  Status load_symbols();
  void load_build_id();

  struct Section {
    uint64_t address, size, file_offset;
    bool code;  // SHF_EXECINSTR
  };
  std::string path_;
  int fd_ = -1;
  Elf* elf_ = nullptr;
  const char* image_ = nullptr;
  size_t image_size_ = 0;
  std::string build_id_;
  uint64_t kaslr_offset_ = 0;
  std::vector<Symbol> by_address_;
  std::unordered_map<std::string_view, uint32_t> by_name_;
  std::vector<Section> sections_;
};

// The GNU build-id of the ELF file at `path`, in hex, read from its notes alone; empty when the
// file is unreadable, not ELF, or has none.
std::string elf_build_id(const std::string& path);
// Whether two hex build-ids name the same build: one may be cut short (VMCOREINFO's BUILD-ID can
// be), so a prefix either way counts; an empty one matches nothing.
bool same_build_id(const std::string& a, const std::string& b);

}  // namespace coroner
