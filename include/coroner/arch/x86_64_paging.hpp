#pragma once
// x86-64 address translation from the dump's own page tables (4- and 5-level; 1 GiB and 2 MiB pages).
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "coroner/dump/dump.hpp"

namespace coroner::x86_64 {

constexpr uint64_t kStartKernelMap = 0xffffffff80000000ull;  // __START_KERNEL_map
constexpr uint64_t kDefaultPageOffset4 = 0xffff888000000000ull;  // page_offset_base without KASLR
constexpr uint64_t kDefaultPageOffset5 = 0xff11000000000000ull;
constexpr uint64_t kPageSize = 4096;
// The lowest address a kernel pointer can have: 5-level paging's kernel half begins here (4-level's
// at 0xffff800000000000, and nothing canonical lies between), so one bound serves both.
constexpr uint64_t kLowestKernelAddress = 0xff00000000000000ull;

struct Translation {
  uint64_t paddr = 0;
  uint64_t page_size = 0;  // 4 KiB, 2 MiB or 1 GiB: the mapping that covers the address
};

bool is_canonical(uint64_t vaddr, int levels);

class PageTableWalker {
 public:
  // `root` is the physical address of the top-level table (CR3 without PCID/PTI bits).
  PageTableWalker(const Dump& dump, uint64_t root, int levels, uint64_t sme_mask = 0)
      : dump_(dump), root_(root), levels_(levels), sme_mask_(sme_mask) {}

  Result<Translation> translate(uint64_t vaddr) const;
  uint64_t root() const { return root_; }
  int levels() const { return levels_; }

 private:
  Result<Translation> walk(uint64_t vaddr) const;
  const Dump& dump_;
  uint64_t root_;
  int levels_;
  uint64_t sme_mask_;
  // Translations by 4 KiB virtual page; cleared when full.
  static constexpr size_t kCacheLimit = 1 << 16;
  mutable std::mutex mutex_;
  mutable std::unordered_map<uint64_t, Translation> cache_;
};

}  // namespace coroner::x86_64
