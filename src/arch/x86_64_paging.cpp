#include "coroner/arch/x86_64_paging.hpp"

#include "coroner/format.hpp"

namespace coroner::x86_64 {
namespace {

constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kPageSizeBit = 1ull << 7;
constexpr uint64_t kAddressMask = 0x000ffffffffff000ull;
constexpr const char* kLevelNames[] = {"PTE", "PDE", "PDPTE", "PML4E", "PML5E"};

}  // namespace

bool is_canonical(uint64_t vaddr, int levels) {
  int bits = levels == 5 ? 57 : 48;
  int64_t sign_extended = static_cast<int64_t>(vaddr << (64 - bits)) >> (64 - bits);
  return static_cast<uint64_t>(sign_extended) == vaddr;
}

Result<Translation> PageTableWalker::translate(uint64_t vaddr) const {
  uint64_t page = vaddr & ~(kPageSize - 1);
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(page); it != cache_.end()) {
      Translation t = it->second;
      t.paddr += vaddr - page;
      return t;
    }
  }
  auto t = walk(page);
  if (!t) return t;
  std::lock_guard lock(mutex_);
  if (cache_.size() >= kCacheLimit) cache_.clear();
  cache_[page] = *t;
  t->paddr += vaddr - page;
  return t;
}

Result<Translation> PageTableWalker::walk(uint64_t vaddr) const {
  if (!is_canonical(vaddr, levels_)) {
    return make_error("virtual address " + hex(vaddr) + " is not canonical (" +
                      std::to_string(levels_) + "-level paging)");
  }
  uint64_t table = root_;
  for (int level = levels_ - 1; level >= 0; --level) {
    int shift = 12 + 9 * level;
    uint64_t index = (vaddr >> shift) & 511;
    uint64_t entry_addr = table + index * 8;
    uint64_t entry = 0;
    auto st = dump_.read_physical(entry_addr, {reinterpret_cast<uint8_t*>(&entry), 8});
    if (!st) {
      return make_error("virtual address " + hex(vaddr) + ": page table entry (" + kLevelNames[level] +
                            " at physical " + hex(entry_addr) + ") unreadable: " + st.error().message,
                        st.error().kind);
    }
    entry &= ~sme_mask_;
    if (!(entry & kPresent)) {
      return make_error("virtual address " + hex(vaddr) + " is not mapped (" + kLevelNames[level] +
                        " at physical " + hex(entry_addr) + " is " + hex(entry) + ", not present)");
    }
    if (level == 0 || ((level == 1 || level == 2) && (entry & kPageSizeBit))) {
      uint64_t size = uint64_t{1} << shift;
      uint64_t base = entry & kAddressMask & ~(size - 1);
      return Translation{base + (vaddr & (size - 1)), size};
    }
    table = entry & kAddressMask;
  }
  return make_error("unreachable page walk state");
}

}  // namespace coroner::x86_64
