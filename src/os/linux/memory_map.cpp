#include "coroner/os/linux/memory_map.hpp"

namespace coroner::linux_kernel {

MemoryMap MemoryMap::read(TypedMemory& objects) {
  MemoryMap m;
  const Kernel& k = objects.kernel();
  auto variable = [&](const char* name, uint64_t& out) {
    if (auto at = k.symbol_address(name)) {
      if (auto v = k.read_u64(*at)) out = *v;
    }
  };
  variable("page_offset_base", m.page_offset);
  variable("vmemmap_base", m.vmemmap);
  variable("vmalloc_base", m.vmalloc_start);
  variable("max_pfn", m.max_pfn);
  if (auto page = objects.debug().find_type("struct page"); page && (*page)->size) m.page_struct_size = (*page)->size;
  return m;
}

std::optional<uint64_t> MemoryMap::direct_map_pfn(uint64_t address) const {
  if (address < page_offset) return std::nullopt;
  uint64_t pfn = (address - page_offset) / kPageSize;
  if (max_pfn && pfn >= max_pfn) return std::nullopt;
  return pfn;
}

std::optional<uint64_t> MemoryMap::pfn_of_page_struct(uint64_t address) const {
  if (address < vmemmap || !page_struct_size) return std::nullopt;
  uint64_t pfn = (address - vmemmap) / page_struct_size;
  if (max_pfn && pfn >= max_pfn) return std::nullopt;
  return pfn;
}

}  // namespace coroner::linux_kernel
