#pragma once
// Where x86-64 Linux keeps things in its virtual address space: the direct map of all RAM
// (page_offset_base), the struct page array (vmemmap_base), vmalloc space, and the page frame
// number <-> struct page <-> direct-map address arithmetic between them (KASLR'd bases read from
// the kernel's own variables).
#include <cstdint>
#include <optional>
#include <string>

#include "coroner/arch/x86_64_paging.hpp"
#include "coroner/target/object.hpp"

namespace coroner::linux_kernel {

struct MemoryMap {
  uint64_t page_offset = x86_64::kDefaultPageOffset4;  // the direct map
  uint64_t vmemmap = 0xffffea0000000000;      // struct page array
  uint64_t vmalloc_start = 0xffffc90000000000, vmalloc_size = 32ull << 40;
  uint64_t page_struct_size = 64;
  uint64_t max_pfn = 0;
  static constexpr uint64_t kPageSize = 4096;

  static MemoryMap read(TypedMemory& objects);

  // The page frame of a direct-map address; nullopt outside the direct map of RAM.
  std::optional<uint64_t> direct_map_pfn(uint64_t address) const;
  uint64_t direct_map_address(uint64_t pfn) const { return page_offset + pfn * kPageSize; }
  uint64_t page_of(uint64_t pfn) const { return vmemmap + pfn * page_struct_size; }
  // The pfn whose struct page holds `address`, when it is inside the struct page array.
  std::optional<uint64_t> pfn_of_page_struct(uint64_t address) const;
  bool in_vmalloc(uint64_t address) const { return address >= vmalloc_start && address - vmalloc_start < vmalloc_size; }
};

}  // namespace coroner::linux_kernel
