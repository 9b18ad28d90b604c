#include "coroner/os/linux/slub.hpp"

#include <algorithm>

#include "coroner/format.hpp"
#include "coroner/os/linux/stack_depot.hpp"
#include "coroner/target/list_walk.hpp"
#include "coroner/target/struct_reader.hpp"

namespace coroner::linux_kernel {
namespace {

constexpr uint32_t kMaxCpus = 8192, kMaxNodes = 1024, kMaxCpuPartial = 10000;
constexpr uint32_t kOrderShift = 16;  // OO_SHIFT: kmem_cache.oo is order << 16 | objects

uint32_t read_count(const Kernel& k, const char* name, uint32_t fallback, uint32_t limit) {
  auto at = k.symbol_address(name);
  auto v = at ? k.read_u32(*at) : Result<uint32_t>(make_error(""));
  return v && *v > 0 && *v <= limit ? *v : fallback;
}

}  // namespace

SlabFlagBits SlabFlagBits::read(TypedMemory& objects) {
  SlabFlagBits bits;
  auto e = objects.debug().find_type("enum _slab_flag_bits");
  const Type* t = e ? strip_typedefs(*e) : nullptr;
  if (!t || t->kind != TypeKind::enumeration) return bits;
  auto bit = [&](std::string_view name) -> uint64_t {
    for (const Enumerator& en : t->enumerators) {
      if (en.name == name && en.value < 64) return uint64_t{1} << en.value;
    }
    return 0;  // a flag this kernel does not have is never set
  };
  bits.consistency_checks = bit("_SLAB_CONSISTENCY_CHECKS");
  bits.red_zone = bit("_SLAB_RED_ZONE");
  bits.poison = bit("_SLAB_POISON");
  bits.store_user = bit("_SLAB_STORE_USER");
  bits.object_poison = bit("_SLAB_OBJECT_POISON");
  return bits;
}

std::string SlabCache::debug_flags() const {
  std::string out;
  for (auto [set, letter] : {std::pair{consistency_checks, "F"}, std::pair{red_zone, "Z"}, std::pair{poison, "P"},
                             std::pair{store_user, "U"}}) {
    if (set) out += letter;
  }
  return out;
}

Result<Slub> Slub::read(TypedMemory& objects) {
  Slub slub(objects);
  const Kernel& k = objects.kernel();
  slub.map_ = MemoryMap::read(objects);
  slub.marks_ = PageMarks::read(objects);
  slub.read_layouts();
  uint32_t cpus = read_count(k, "nr_cpu_ids", 1, kMaxCpus);
  auto offsets = k.symbol_address("__per_cpu_offset");
  for (uint32_t cpu = 0; offsets && cpu < cpus; ++cpu) {
    if (auto off = k.read_u64(*offsets + 8 * uint64_t{cpu})) slub.per_cpu_offsets_.push_back(*off);
  }
  uint32_t nodes = read_count(k, "nr_node_ids", 1, kMaxNodes);
  auto head = k.symbol_address("slab_caches");
  if (!head) return make_error("no symbol slab_caches in the vmlinux: not a SLUB kernel?");
  auto kc = StructReader::of(objects, "struct kmem_cache");
  if (!kc) return kc.error();
  if (!kc->has("cpu_slab")) return make_error("struct kmem_cache has no cpu_slab: the kernel uses SLAB or SLOB, not SLUB");
  auto walk = walk_list(objects, {kc->type(), "list", *head, true, 100000});
  if (!walk) return walk.error();
  if (auto p = incomplete_walk(*walk, "slab_caches")) slub.problems_.push_back(*p);
  auto node_array = kc->address_of(0, "node");
  const SlabFlagBits bits = SlabFlagBits::read(objects);
  for (uint64_t a : walk->entries) {
    SlabCache c;
    c.address = a;
    if (auto name = kc->integer(a, "name")) c.name = k.read_c_string(*name, 64).value_or("?");
    c.size = static_cast<uint32_t>(kc->integer(a, "size").value_or(0));
    c.object_size = static_cast<uint32_t>(kc->integer(a, "object_size").value_or(0));
    c.offset = static_cast<uint32_t>(kc->integer(a, "offset").value_or(0));
    c.inuse = static_cast<uint32_t>(kc->integer(a, "inuse").value_or(0));
    if (kc->has("red_left_pad")) c.red_left_pad = static_cast<uint32_t>(kc->integer(a, "red_left_pad").value_or(0));
    c.flags = kc->integer(a, "flags").value_or(0);
    c.consistency_checks = c.flags & bits.consistency_checks;
    c.red_zone = c.flags & bits.red_zone;
    c.poison = c.flags & bits.poison;
    c.store_user = c.flags & bits.store_user;
    c.object_poison = c.flags & bits.object_poison;
    uint64_t oo = kc->integer(a, "oo.x").value_or(0);
    c.order = static_cast<uint32_t>(oo >> kOrderShift);
    c.objects_per_slab = static_cast<uint32_t>(oo & ((1u << kOrderShift) - 1));
    if (kc->has("random")) c.random = kc->integer(a, "random").value_or(0);
    c.cpu_slab = kc->integer(a, "cpu_slab").value_or(0);
    for (uint32_t n = 0; node_array && n < nodes; ++n) {
      if (auto node = k.read_u64(a + *node_array + 8 * uint64_t{n}); node && *node) c.nodes.push_back(*node);
    }
    if (!c.size || c.size > (1u << 30) || c.order > 20) {
      slub.problems_.push_back("kmem_cache " + hex(a) + " (" + c.name + ") has an impossible layout; skipped");
      continue;
    }
    slub.cache_index_[c.address] = slub.caches_.size();
    slub.caches_.push_back(std::move(c));
  }
  return slub;
}

void Slub::read_layouts() {
  auto reader = [&](const char* type) -> std::optional<StructReader> {
    auto r = StructReader::of(*objects_, type);
    return r ? std::optional<StructReader>(std::move(*r)) : std::nullopt;
  };
  layouts_.slab = reader(objects_->debug().find_type("struct slab") ? "struct slab" : "struct page");
  layouts_.node = reader("struct kmem_cache_node");
  layouts_.cpu = reader("struct kmem_cache_cpu");
  layouts_.track = reader("struct track");
  if (layouts_.cpu && !layouts_.cpu->has("slab")) layouts_.cpu_slab_member = "page";
  if (layouts_.slab && !layouts_.slab->has("slab_list")) layouts_.slab_link = "lru";
}

const SlabCache* Slub::cache_at(uint64_t kmem_cache) const {
  auto it = cache_index_.find(kmem_cache);
  return it == cache_index_.end() ? nullptr : &caches_[it->second];
}

const SlabCache* Slub::find(std::string_view name) const {
  for (const auto& c : caches_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

uint64_t Slub::decode_free_pointer(const SlabCache& cache, uint64_t stored, uint64_t at) const {
  // CONFIG_SLAB_FREELIST_HARDENED: ptr ^ s->random ^ swab(ptr_addr) (mm/slub.c freelist_ptr()).
  return cache.random ? stored ^ *cache.random ^ __builtin_bswap64(at) : stored;
}

void Slub::walk_freelist(const SlabCache& cache, uint64_t first, uint64_t slab_base, uint32_t objects,
                         std::set<uint64_t>& out) const {
  const Kernel& k = objects_->kernel();
  uint64_t end = slab_base + uint64_t{objects} * cache.size;
  uint64_t p = first;
  for (uint32_t n = 0; p && n <= objects; ++n) {
    uint64_t rel = p - slab_base - cache.red_left_pad;
    if (p < slab_base + cache.red_left_pad || p >= end || rel % cache.size || !out.insert(p).second) return;
    auto stored = k.read_u64(p + cache.offset);
    if (!stored) return;
    p = decode_free_pointer(cache, *stored, p + cache.offset);
  }
}

std::vector<uint64_t> Slub::cpu_structs(const SlabCache& cache) const {
  std::vector<uint64_t> out;
  for (uint64_t off : per_cpu_offsets_) out.push_back(cache.cpu_slab + off);
  return out;
}

const std::set<uint64_t>& Slub::free_objects(const SlabCache& cache, uint64_t slab) {
  if (auto it = free_by_slab_.find(slab); it != free_by_slab_.end()) return it->second;
  std::set<uint64_t>& out = free_by_slab_[slab];
  auto& s = layouts_.slab;
  auto& cpu = layouts_.cpu;
  auto pfn = map_.pfn_of_page_struct(slab);
  if (!s || !cpu || !pfn) return out;
  uint64_t base = map_.direct_map_address(*pfn);
  auto objects = static_cast<uint32_t>(s->integer(slab, "objects").value_or(0));
  walk_freelist(cache, s->integer(slab, "freelist").value_or(0), base, objects, out);
  for (uint64_t c : cpu_structs(cache)) {
    // The CPU's lockless freelist belongs to the CPU's slab.
    if (cpu->integer(c, layouts_.cpu_slab_member).value_or(0) != slab) continue;
    walk_freelist(cache, cpu->integer(c, "freelist").value_or(0), base, objects, out);
  }
  return out;
}

std::set<uint64_t> Slub::slabs_of(const SlabCache& cache) {
  std::set<uint64_t> out;
  auto& s = layouts_.slab;
  auto& node = layouts_.node;
  auto& cpu = layouts_.cpu;
  if (!s || !node || !cpu) return out;
  const char* link = layouts_.slab_link;
  for (uint64_t n : cache.nodes) {
    for (const char* list : {"partial", "full"}) {
      auto head = node->address_of(n, list);
      if (!head || !node->has(list)) continue;
      auto walk = walk_list(*objects_, {s->type(), link, *head, true, 1000000});
      if (!walk) continue;
      if (auto p = incomplete_walk(*walk, cache.name + " node list " + list)) problems_.push_back(*p);
      out.insert(walk->entries.begin(), walk->entries.end());
    }
  }
  for (uint64_t c : cpu_structs(cache)) {
    if (uint64_t slab = cpu->integer(c, layouts_.cpu_slab_member).value_or(0)) out.insert(slab);
    uint64_t partial = cpu->integer(c, "partial").value_or(0);
    for (uint32_t n = 0; partial && n < kMaxCpuPartial && out.insert(partial).second; ++n) {
      partial = s->integer(partial, "next").value_or(0);
    }
  }
  return out;
}

std::optional<std::pair<uint64_t, uint32_t>> Slub::slab_memory(uint64_t slab) {
  auto& s = layouts_.slab;
  auto pfn = map_.pfn_of_page_struct(slab);
  if (!s || !pfn) return std::nullopt;
  return std::pair{map_.direct_map_address(*pfn), static_cast<uint32_t>(s->integer(slab, "objects").value_or(0))};
}

std::vector<ObjectDamage> Slub::check_object(const SlabCache& cache, uint64_t object, bool free) {
  std::vector<ObjectDamage> out;
  constexpr uint8_t kPoisonFree = 0x6b, kPoisonEnd = 0xa5, kRedInactive = 0xbb, kRedActive = 0xcc;
  ObjectBytes b = objects_->read_object(object - cache.red_left_pad, uint64_t{cache.red_left_pad} + cache.inuse);
  auto check = [&](uint64_t from, uint64_t to, uint8_t expected, const char* area) {
    // [from, to) relative to the object; one damage per stretch of wrong bytes.
    for (uint64_t i = from; i < to;) {
      uint64_t at = i + cache.red_left_pad;
      if (!b.readable(at, 1) || b.data[at] == expected) {
        ++i;
        continue;
      }
      uint64_t j = i;
      while (j < to && b.readable(j + cache.red_left_pad, 1) && b.data[j + cache.red_left_pad] != expected) ++j;
      out.push_back({static_cast<int64_t>(i), j - i, area, expected, b.data[at]});
      i = j;
    }
  };
  if (cache.red_zone) {
    uint8_t red = free ? kRedInactive : kRedActive;
    for (uint64_t i = 0; i < cache.red_left_pad; ++i) {
      if (b.readable(i, 1) && b.data[i] != red) {
        out.push_back({static_cast<int64_t>(i) - static_cast<int64_t>(cache.red_left_pad), 1, "left red zone", red, b.data[i]});
        break;
      }
    }
    check(cache.object_size, cache.inuse, red, "red zone");
  }
  if (cache.object_poison && free && cache.object_size > 0) {
    // A free object whose free pointer lives inside it has those 8 bytes overwritten by design.
    bool pointer_inside = cache.offset + 8 <= cache.object_size;
    uint64_t end = cache.object_size - 1;
    if (pointer_inside) {
      check(0, cache.offset, kPoisonFree, "poison");
      check(cache.offset + 8, end, kPoisonFree, "poison");
    } else {
      check(0, end, kPoisonFree, "poison");
    }
    check(end, cache.object_size, kPoisonEnd, "poison end");
  }
  return out;
}

CacheCounts Slub::counts(const SlabCache& cache) {
  CacheCounts out;
  auto& node = layouts_.node;
  if (!node) return out;
  // The nodes count every slab (CONFIG_SLUB_DEBUG); full slabs have nothing free.
  for (uint64_t n : cache.nodes) {
    out.total += node->integer(n, "total_objects.counter").value_or(0);
    out.slabs += node->integer(n, "nr_slabs.counter").value_or(0);
  }
  uint64_t free = 0;
  for (uint64_t slab : slabs_of(cache)) free += free_objects(cache, slab).size();
  out.allocated = out.total >= free ? out.total - free : 0;
  return out;
}

std::optional<Track> Slub::track(const SlabCache& cache, uint64_t object, int which) {
  auto& t = layouts_.track;
  if (!t || !cache.store_user) return std::nullopt;
  uint64_t at = object + cache.track_offset() + static_cast<uint64_t>(which) * t->size();
  Track out;
  auto addr = t->integer(at, "addr");
  if (!addr) return std::nullopt;
  out.addr = *addr;
  out.cpu = static_cast<int>(t->integer(at, "cpu").value_or(0));
  out.pid = static_cast<int>(t->integer(at, "pid").value_or(0));
  out.when = t->integer(at, "when").value_or(0);
  if (t->has("handle")) {
    out.handle = static_cast<uint32_t>(t->integer(at, "handle").value_or(0));
    auto stack = depot_stack(*objects_, out.handle);
    if (stack) out.stack = std::move(*stack);
    else out.stack_problem = stack.error().message;
  } else if (auto addrs = t->member("addrs"); addrs && addrs->type) {
    // Before the stack depot (5.17): up to TRACK_ADDRS_COUNT addresses in the track itself.
    uint64_t count = addrs->type->count.value_or(0);
    for (uint64_t i = 0; i < count && i < 64; ++i) {
      uint64_t a = objects_->kernel().read_u64(at + addrs->offset + 8 * i).value_or(0);
      if (!a) break;
      out.stack.push_back(a);
    }
  }
  return out;
}

Result<std::optional<SlabObject>> Slub::object_at(uint64_t address) {
  const Kernel& k = objects_->kernel();
  auto pfn = map_.direct_map_pfn(address);
  if (!pfn) return std::optional<SlabObject>{};
  uint64_t page = map_.page_of(*pfn);
  // A tail page of a compound page points at its head with bit 0 set (page->compound_head).
  auto compound = k.read_u64(page + 8);
  if (!compound) return compound.error();
  uint64_t head = (*compound & 1) ? *compound - 1 : page;
  auto slab_page = marks_.is_slab(k, head);
  if (!slab_page) return slab_page.error();
  if (!*slab_page) return std::optional<SlabObject>{};
  auto& s = layouts_.slab;
  if (!s) return make_error("the vmlinux's debug info has no struct slab (or struct page)");
  uint64_t cache_address = s->integer(head, "slab_cache").value_or(0);
  const SlabCache* cache = cache_at(cache_address);
  if (!cache) return make_error("slab page " + hex(head) + " belongs to " + hex(cache_address) + ", which is on no slab_caches list");
  auto head_pfn = map_.pfn_of_page_struct(head);
  if (!head_pfn) return make_error("slab " + hex(head) + " is outside the struct page array");
  SlabObject o;
  o.cache = cache;
  o.slab = head;
  o.slab_base = map_.direct_map_address(*head_pfn);
  auto objects = s->integer(head, "objects").value_or(cache->objects_per_slab);
  o.index = (address - o.slab_base) / cache->size;
  if (o.index >= objects) {
    o.part = "slab padding, past its last object";
    return std::optional<SlabObject>(o);
  }
  o.slot = o.slab_base + o.index * cache->size;
  o.object = o.slot + cache->red_left_pad;
  o.offset = static_cast<int64_t>(address - o.object);
  uint64_t tracks = cache->store_user && layouts_.track ? 2 * layouts_.track->size() : 0;
  uint64_t track_end = cache->track_offset() + tracks;
  if (o.offset < 0) o.part = "left red zone";
  else if (static_cast<uint64_t>(o.offset) < cache->object_size) o.part = "object";
  else if (cache->offset >= cache->inuse && static_cast<uint64_t>(o.offset) - cache->offset < 8) o.part = "free pointer";
  else if (static_cast<uint64_t>(o.offset) < cache->inuse) o.part = cache->red_zone ? "red zone" : "padding";
  else if (static_cast<uint64_t>(o.offset) >= cache->track_offset() && static_cast<uint64_t>(o.offset) < track_end) o.part = "tracks";
  else o.part = "padding";
  o.free = free_objects(*cache, head).contains(o.object);
  return std::optional<SlabObject>(o);
}

void Slub::read_tracks(SlabObject& o) {
  if (!o.cache || !o.slot) return;
  o.alloc = track(*o.cache, o.object, 0);
  o.freed = track(*o.cache, o.object, 1);
}

}  // namespace coroner::linux_kernel
