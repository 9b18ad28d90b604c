#pragma once
// The kernel image's ELF side: its .symtab as a SymbolTable (code where SHF_EXECINSTR sections
// are), build-id, and the bytes of its sections as linked (e.g. linux_banner, to check a dump matches).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "coroner/debuginfo/symbol_table.hpp"
#include "coroner/result.hpp"

typedef struct Elf Elf;

namespace coroner {

class ElfSymbols : public SymbolTable {
 public:
  static Result<std::unique_ptr<ElfSymbols>> open(const std::string& path);
  ~ElfSymbols() override;

  const std::string& path() const { return path_; }
  const std::string& build_id() const { return build_id_; }  // hex; empty when absent
  // Bytes of an allocated section at a link-time address, read from the vmlinux file itself.
  Result<std::string_view> file_bytes(uint64_t link_address, uint64_t length) const;

 private:
  ElfSymbols() = default;
  Status load(const std::string& path);
  Status load_symbols();
  void load_build_id();

  struct Section {
    uint64_t address, size, file_offset;
  };
  std::string path_;
  int fd_ = -1;
  Elf* elf_ = nullptr;
  const char* image_ = nullptr;
  size_t image_size_ = 0;
  std::string build_id_;
  std::vector<Section> sections_;
};

// The GNU build-id of the ELF file at `path`, in hex, read from its notes alone; empty when the
// file is unreadable, not ELF, or has none.
std::string elf_build_id(const std::string& path);
// The same, of an ELF file already open.
std::string gnu_build_id(Elf* elf);
// Whether two hex build-ids name the same build: one may be cut short (VMCOREINFO's BUILD-ID can
// be), so a prefix either way counts; an empty one matches nothing.
bool same_build_id(const std::string& a, const std::string& b);

}  // namespace coroner
