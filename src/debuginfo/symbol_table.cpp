#include "coroner/debuginfo/symbol_table.hpp"

#include <algorithm>
#include <bit>
#include <functional>

#include "coroner/arch/x86_64_paging.hpp"
#include "coroner/format.hpp"

namespace coroner {

void SymbolTable::add_owned(std::string name, uint64_t address, uint64_t size, bool function, bool global) {
  const std::string& kept = owned_names_.emplace_back(std::move(name));
  by_address_.push_back({address, size, kept, function, global});
}

void SymbolTable::index() {
  std::stable_sort(by_address_.begin(), by_address_.end(), [](const Symbol& a, const Symbol& b) {
    if (a.address != b.address) return a.address < b.address;
    return a.function > b.function;  // at one address, prefer the function, then the global name
  });
  by_name_.assign(std::bit_ceil(std::max<size_t>(by_address_.size() * 2, 16)), 0);
  for (uint32_t i = 0; i < by_address_.size(); ++i) {
    uint32_t& slot = by_name_[name_slot(by_address_[i].name)];
    // One name at several addresses: the first global one, else the first.
    if (slot == 0 || (by_address_[i].global && !by_address_[slot - 1].global)) slot = i + 1;
  }
}

size_t SymbolTable::name_slot(std::string_view name) const {
  size_t mask = by_name_.size() - 1;
  for (size_t i = std::hash<std::string_view>{}(name) & mask;; i = (i + 1) & mask) {
    if (by_name_[i] == 0 || by_address_[by_name_[i] - 1].name == name) return i;
  }
}

const Symbol* SymbolTable::find(std::string_view name) const {
  if (by_name_.empty()) return nullptr;
  uint32_t slot = by_name_[name_slot(name)];
  return slot ? &by_address_[slot - 1] : nullptr;
}

uint64_t SymbolTable::relocate(const Symbol& s) const {
  // Per-CPU symbols (offsets from 0) and absolute ones do not move with KASLR.
  return s.address >= x86_64::kStartKernelMap ? s.address + kaslr_offset_ : s.address;
}

std::optional<uint64_t> SymbolTable::address_of(std::string_view name) const {
  const Symbol* s = find(name);
  if (!s) return std::nullopt;
  return relocate(*s);
}

std::optional<SymbolHit> SymbolTable::lookup(uint64_t runtime_address) const {
  uint64_t link = runtime_address >= x86_64::kStartKernelMap + kaslr_offset_
                      ? runtime_address - kaslr_offset_
                      : runtime_address;
  if (link < x86_64::kStartKernelMap) return std::nullopt;  // only the kernel image is covered
  auto it = std::upper_bound(by_address_.begin(), by_address_.end(), link,
                             [](uint64_t a, const Symbol& s) { return a < s.address; });
  if (it == by_address_.begin()) return std::nullopt;
  auto next = it;
  --it;
  // Among symbols at the chosen address, the first (a function, by the sort) wins.
  uint64_t at = it->address;
  while (it != by_address_.begin() && std::prev(it)->address == at) --it;
  // As kallsyms does: a symbol extends to the next one (alignment padding included), so sizes
  // read as the kernel's oops output prints them ("vfs_write+0xc7/0x3f0").
  while (next != by_address_.end() && next->address == at) ++next;
  uint64_t size = next == by_address_.end() ? it->size : next->address - at;
  uint64_t offset = link - at;
  // The last symbol, when the ELF gives it no size, covers its own address only: not everything
  // above the image (module space would read as "__init_scratch_end+0x24f9100").
  if (offset >= std::max<uint64_t>(size, 1)) return std::nullopt;
  return SymbolHit{&*it, offset, size};
}

std::string SymbolTable::describe(uint64_t runtime_address) const {
  auto hit = lookup(runtime_address);
  if (!hit) return hex(runtime_address);
  return std::string(hit->symbol->name) + "+" + hex(hit->offset) + "/" + hex(hit->size);
}

bool SymbolTable::in_code(uint64_t runtime_address) const {
  uint64_t link = runtime_address - kaslr_offset_;
  for (const auto& [start, end] : code_) {
    if (link >= start && link < end) return true;
  }
  return false;
}

}  // namespace coroner
