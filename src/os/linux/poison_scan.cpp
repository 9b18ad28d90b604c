#include "coroner/os/linux/poison_scan.hpp"

#include <algorithm>
#include <map>

#include "coroner/os/linux/memory_search.hpp"
#include "coroner/format.hpp"
#include "coroner/poison/physical_runs.hpp"

namespace coroner::linux_kernel {
namespace {

// One byte can mean two things (0xcc: SLUB's active red zone, or freed init memory): outside slab
// pages, a pattern that is not SLUB's says more.
const PoisonPattern* outside_slab(const PoisonPattern* p, const std::vector<const PoisonPattern*>& patterns) {
  if (!p->allocator.starts_with("SLUB")) return p;
  for (const PoisonPattern* other : patterns) {
    if (other->width == p->width && other->value == p->value && !other->allocator.starts_with("SLUB")) return other;
  }
  return p;
}

// What holds a run: the group it joins and, for the examples, the object or stack it is in.
std::pair<std::string, std::string> holder_of(Slub* slub, const MemoryMap& map,
                                              const std::unordered_map<uint64_t, StackPage>& stacks, uint64_t physical) {
  uint64_t v = map.page_offset + physical;
  if (auto s = stacks.find(physical & ~uint64_t{4095}); s != stacks.end()) {
    const Task& t = *s->second.task;
    return {"task stacks", "stack of pid " + std::to_string(t.thread_id) + " (" + t.comm + ") at " +
                               hex(s->second.virtual_page + (physical & 4095))};
  }
  if (slub) {
    if (auto o = slub->object_at(v); o && *o && (*o)->slot) {
      const SlabObject& obj = **o;
      std::string state = obj.free ? "free" : "allocated";
      return {state + " objects of " + obj.cache->name,
              state + " object " + hex(obj.object) + " of " + obj.cache->name + " (" + obj.part + " " +
                  signed_hex(obj.offset) + ")"};
    }
  }
  return {"pages (not slab)", "page at " + hex(v & ~uint64_t{4095})};
}

}  // namespace

ScanResult scan_poison(LinuxView& view, Slub* slub, const ScanRequest& request) {
  ScanResult out;
  const Dump& dump = view.objects().kernel().dump();
  RunFinder finder(request.patterns, request.min_run);
  RunPass pass = find_physical_runs(dump, finder, request.low, request.high, request.threads);
  out.scan_seconds = pass.seconds;
  out.scan_threads = pass.threads;
  out.bytes_scanned = pass.bytes_read;
  out.bytes_unreadable = pass.bytes_unreadable;
  out.runs = pass.runs.size();
  std::vector<PoisonRegion> regions;
  regions.reserve(pass.runs.size());
  for (const PhysicalRun& r : pass.runs) regions.push_back({r.physical, r.length, r.pattern, 0, ""});
  MemoryMap map = slub ? slub->memory() : MemoryMap::read(view.objects());
  auto stacks = stack_pages(view);
  std::map<std::pair<std::string, std::string>, PoisonGroup> groups;
  for (PoisonRegion& r : regions) {
    auto [holder, what] = holder_of(slub, map, stacks, r.physical);
    if (holder == "pages (not slab)") r.pattern = outside_slab(r.pattern, request.patterns);
    r.virtual_address = map.page_offset + r.physical;
    r.what = what;
    PoisonGroup& g = groups[{r.pattern->name, holder}];
    g.pattern = r.pattern->name;
    g.holder = holder;
    ++g.runs;
    g.bytes += r.length;
    if (g.examples.size() < request.examples) g.examples.push_back(r);
  }
  for (auto& [key, g] : groups) out.groups.push_back(std::move(g));
  std::stable_sort(out.groups.begin(), out.groups.end(),
                   [](const PoisonGroup& a, const PoisonGroup& b) { return a.bytes > b.bytes; });
  if (!slub || !request.check_slabs) return out;
  for (const SlabCache& c : slub->caches()) {
    if (!c.poison && !c.red_zone) continue;
    for (uint64_t slab : slub->slabs_of(c)) {
      auto memory = slub->slab_memory(slab);
      if (!memory) continue;
      const auto& free = slub->free_objects(c, slab);
      for (uint32_t i = 0; i < memory->second && i < c.objects_per_slab * 2u; ++i) {
        uint64_t object = memory->first + uint64_t{i} * c.size + c.red_left_pad;
        bool is_free = free.contains(object);
        auto damage = slub->check_object(c, object, is_free);
        if (damage.empty()) continue;
        DamagedObject d{&c, object, is_free, std::move(damage), std::nullopt};
        if (is_free) {
          if (auto freed = slub->track(c, object, 1); freed && freed->addr) d.freed = freed;
        }
        out.damaged.push_back(std::move(d));
      }
    }
  }
  return out;
}

}  // namespace coroner::linux_kernel
