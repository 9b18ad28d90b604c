#pragma once
// What addresses are and what the slab allocator holds, as text and JSON (schemas coroner.whatis
// and coroner.kmem; see docs/memory.schema.md).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "coroner/os/linux/whatis.hpp"

namespace coroner::report {

// Track stacks are named with `view` (kernel and module symbols).
std::string whatis_text(linux_kernel::LinuxView& view, const linux_kernel::WhatIs& w);
nlohmann::ordered_json whatis_json(linux_kernel::LinuxView& view, const linux_kernel::WhatIs& w);

struct CacheRow {
  const linux_kernel::SlabCache* cache = nullptr;
  linux_kernel::CacheCounts counts;
};
std::string kmem_caches_text(const std::vector<CacheRow>& rows);
nlohmann::ordered_json kmem_caches_json(const std::vector<CacheRow>& rows, const std::vector<std::string>& problems);

}  // namespace coroner::report
