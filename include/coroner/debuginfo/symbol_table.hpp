#pragma once
// A kernel image's symbols, name <-> address, wherever they were read from: the vmlinux's .symtab
// (ElfSymbols, link-time addresses moved by the KASLR offset) or the kallsyms tables in the dump's
// memory (run-time addresses already). Lookups by address cover the kernel image only.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace coroner {

struct Symbol {
  uint64_t address = 0;  // as linked (a .symtab) or as loaded (kallsyms, whose offset is 0)
  uint64_t size = 0;     // 0 when the source gives none (kallsyms)
  std::string_view name;
  bool function = false;
  bool global = false;
};

struct SymbolHit {
  const Symbol* symbol = nullptr;
  uint64_t offset = 0;
  uint64_t size = 0;  // the source's size, or the distance to the next symbol when it gives 0
};

class SymbolTable {
 public:
  SymbolTable() = default;
  SymbolTable(const SymbolTable&) = delete;
  SymbolTable& operator=(const SymbolTable&) = delete;
  virtual ~SymbolTable() = default;

  // Where the symbols came from, for the user: "/usr/lib/debug/.../vmlinux", "kallsyms in the dump".
  const std::string& source() const { return source_; }
  size_t count() const { return by_address_.size(); }

  // KASLR: symbols in the kernel image (at or above __START_KERNEL_map) move by this much.
  void set_kaslr_offset(uint64_t offset) { kaslr_offset_ = offset; }
  uint64_t kaslr_offset() const { return kaslr_offset_; }
  // A symbol by name (its address as the source holds it), and its run-time address.
  const Symbol* find(std::string_view name) const;
  std::optional<uint64_t> address_of(std::string_view name) const;
  // The symbol covering a run-time address.
  std::optional<SymbolHit> lookup(uint64_t runtime_address) const;
  // "func+0x1f/0x40", or the hex address when nothing covers it.
  std::string describe(uint64_t runtime_address) const;
  uint64_t relocate(const Symbol& s) const;
  // Whether a run-time address is in the image's code: where a return address may point.
  bool in_code(uint64_t runtime_address) const;

 protected:
  // Adds a symbol whose name the table keeps a copy of.
  void add_owned(std::string name, uint64_t address, uint64_t size, bool function, bool global);
  void add(const Symbol& s) { by_address_.push_back(s); }
  // Sorts by address and builds the name index; after the last add.
  void index();
  // Where `name` is in by_name_, or the empty slot that ends its probe (load <= 1/2: there is one).
  size_t name_slot(std::string_view name) const;
  void add_code_range(uint64_t start, uint64_t end) { code_.emplace_back(start, end); }  // as the symbols' addresses
  std::string source_;

 private:
  uint64_t kaslr_offset_ = 0;
  std::vector<Symbol> by_address_;
  // Open addressing over by_address_'s indexes plus one (0: empty): one allocation for 150,000
  // names instead of one per name.
  std::vector<uint32_t> by_name_;
  std::deque<std::string> owned_names_;
  std::vector<std::pair<uint64_t, uint64_t>> code_;  // [start, end)
};

}  // namespace coroner
