#pragma once
// What the slab allocator holds, as text and JSON (schema coroner.kmem; see docs/memory.schema.md).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "coroner/os/linux/slub.hpp"

namespace coroner::report {

struct CacheRow {
  const linux_kernel::SlabCache* cache = nullptr;
  linux_kernel::CacheCounts counts;
};
std::string kmem_caches_text(const std::vector<CacheRow>& rows);
nlohmann::ordered_json kmem_caches_json(const std::vector<CacheRow>& rows, const std::vector<std::string>& problems);

}  // namespace coroner::report
