#include "coroner/report/memory_report.hpp"

#include <cstdio>

#include "coroner/format.hpp"

namespace coroner::report {

using namespace coroner::linux_kernel;

std::string kmem_caches_text(const std::vector<CacheRow>& rows) {
  std::string out = "CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\n";
  for (const auto& r : rows) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%016llx %8u %10llu %9llu %6llu %5lluk  %s\n",
                  static_cast<unsigned long long>(r.cache->address), r.cache->object_size,
                  static_cast<unsigned long long>(r.counts.allocated), static_cast<unsigned long long>(r.counts.total),
                  static_cast<unsigned long long>(r.counts.slabs),
                  static_cast<unsigned long long>(r.cache->slab_bytes() / 1024), r.cache->name.c_str());
    out += buf;
  }
  return out;
}

nlohmann::ordered_json kmem_caches_json(const std::vector<CacheRow>& rows, const std::vector<std::string>& problems) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& r : rows) {
    const SlabCache& c = *r.cache;
    list.push_back({{"name", c.name}, {"kmem_cache", hex(c.address)}, {"object_size", c.object_size},
                    {"slot_size", c.size}, {"free_pointer_offset", c.offset}, {"inuse", c.inuse},
                    {"red_left_pad", c.red_left_pad}, {"flags", hex(c.flags)}, {"debug", c.debug_flags()},
                    {"order", c.order}, {"objects_per_slab", c.objects_per_slab},
                    {"freelist_hardened", c.random.has_value()}, {"allocated", r.counts.allocated},
                    {"total", r.counts.total}, {"slabs", r.counts.slabs}});
  }
  return {{"schema", "coroner.kmem"}, {"caches", list}, {"problems", problems}};
}

}  // namespace coroner::report
