#pragma once
// The SLUB allocator as the dump holds it: every cache on `slab_caches` with its layout and debug
// flags, and for a direct-map address the slab object holding it: which cache, which object,
// allocated or free (from the decoded freelists, CONFIG_SLAB_FREELIST_HARDENED included), and
// with SLAB_STORE_USER (slub_debug=U) who allocated and freed it. Layouts come from DWARF.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coroner/os/linux/memory_map.hpp"
#include "coroner/os/linux/page_marks.hpp"
#include "coroner/target/object.hpp"
#include "coroner/target/struct_reader.hpp"

namespace coroner::linux_kernel {

// The cache flags coroner reads, as this kernel's bits: slab_flags_t's values were #defines until
// the kernel numbered them in enum _slab_flag_bits, whose enumerators the debug info then gives.
struct SlabFlagBits {
  uint64_t consistency_checks = 0x100, red_zone = 0x400, poison = 0x800, store_user = 0x10000;
  uint64_t object_poison = 0x80000000;  // mm/slub.c's: objects really are poisoned (no ctor, no RCU)
  static SlabFlagBits read(TypedMemory& objects);
};

struct SlabCache {
  uint64_t address = 0;  // struct kmem_cache
  std::string name;
  uint32_t size = 0, object_size = 0, offset = 0, inuse = 0, red_left_pad = 0;
  uint64_t flags = 0;
  bool consistency_checks = false, red_zone = false, poison = false, store_user = false, object_poison = false;
  uint32_t order = 0, objects_per_slab = 0;  // from kmem_cache.oo
  std::optional<uint64_t> random;           // the freelist key, with CONFIG_SLAB_FREELIST_HARDENED
  uint64_t cpu_slab = 0;                    // __percpu struct kmem_cache_cpu *
  std::vector<uint64_t> nodes;              // struct kmem_cache_node *
  uint64_t slab_bytes() const { return 4096ull << order; }
  // Where the alloc and free tracks start in an object (the kernel's get_info_end()).
  uint64_t track_offset() const { return offset >= inuse ? inuse + 8 : inuse; }
  std::string debug_flags() const;  // "F Z P U" as slub_debug spells them
};

struct Track {
  uint64_t addr = 0;  // the caller of the allocator
  int cpu = 0, pid = 0;
  uint64_t when = 0;  // jiffies
  uint32_t handle = 0;
  std::vector<uint64_t> stack;  // from the stack depot, innermost first
  std::string stack_problem;    // why the stack could not be read
};

struct SlabObject {
  const SlabCache* cache = nullptr;
  uint64_t slab = 0;       // struct slab (the head struct page)
  uint64_t slab_base = 0;  // the slab's memory
  uint64_t index = 0;      // which object in the slab
  uint64_t slot = 0;       // the object's slot, left red zone included (crash's object address)
  uint64_t object = 0;     // the object as the kernel hands it out
  int64_t offset = 0;      // of the address asked about, from `object`
  std::string part;        // "object", "left red zone", "red zone", "free pointer", "tracks", "padding"
  bool free = false;
  std::optional<Track> alloc, freed;  // with SLAB_STORE_USER
};

// What SLUB's own check_object() would complain about in one object (slub_debug=P and Z).
struct ObjectDamage {
  int64_t offset = 0;     // from the object
  uint64_t length = 0;    // bytes that differ from what should be there
  std::string area;       // "poison" (a write after free), "poison end", "red zone", "left red zone"
  uint8_t expected = 0;   // the byte that should be there
  uint8_t found = 0;      // the first byte that is not
};

struct CacheCounts {
  uint64_t allocated = 0, total = 0, slabs = 0;
};

class Slub {
 public:
  static Result<Slub> read(TypedMemory& objects);

  const std::vector<SlabCache>& caches() const { return caches_; }
  const SlabCache* cache_at(uint64_t kmem_cache) const;
  const SlabCache* find(std::string_view name) const;
  const MemoryMap& memory() const { return map_; }
  const PageMarks& page_marks() const { return marks_; }
  // The slab object holding `address`; nullopt when its page is not a slab page. Its tracks are
  // not read (see tracks()): classifying many addresses should not walk the stack depot.
  Result<std::optional<SlabObject>> object_at(uint64_t address);
  // An object's alloc (0) or free (1) track, with SLAB_STORE_USER; nullopt without, or unreadable.
  std::optional<Track> track(const SlabCache& cache, uint64_t object, int which);
  // Both tracks of `o`, when its cache keeps them.
  void read_tracks(SlabObject& o);
  // Allocated and total objects and slabs, counted over each node's partial and full lists and
  // each CPU's slab and partial slabs (crash's kmem -s).
  CacheCounts counts(const SlabCache& cache);
  // The free objects of one slab: its freelist, and a CPU's lockless freelist when it is that
  // CPU's slab. Decoded with the cache's key; a chain that leaves the slab stops. Kept per slab.
  const std::set<uint64_t>& free_objects(const SlabCache& cache, uint64_t slab);
  // Every slab of a cache the node lists and CPUs know.
  std::set<uint64_t> slabs_of(const SlabCache& cache);
  // The memory of a slab (struct slab / head page address) and its object count.
  std::optional<std::pair<uint64_t, uint32_t>> slab_memory(uint64_t slab);
  // Poison and red zones of one object checked as SLUB's check_object() does; empty when intact
  // or when the cache keeps neither.
  std::vector<ObjectDamage> check_object(const SlabCache& cache, uint64_t object, bool free);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  explicit Slub(TypedMemory& objects) : objects_(&objects) {}
  void read_layouts();
  uint64_t decode_free_pointer(const SlabCache& cache, uint64_t stored, uint64_t at) const;
  void walk_freelist(const SlabCache& cache, uint64_t first, uint64_t slab_base, uint32_t objects,
                     std::set<uint64_t>& out) const;
  std::vector<uint64_t> cpu_structs(const SlabCache& cache) const;  // struct kmem_cache_cpu per CPU

  // The layouts every lookup needs, found in DWARF once by read().
  struct Layouts {
    std::optional<StructReader> slab, node, cpu, track;  // struct slab is struct page before 5.17
    const char* cpu_slab_member = "slab";                // kmem_cache_cpu's; "page" before 5.17
    const char* slab_link = "slab_list";                 // the node lists' link; "lru" before 5.17
  };

  TypedMemory* objects_;
  MemoryMap map_;
  PageMarks marks_;
  Layouts layouts_;
  std::map<uint64_t, size_t> cache_index_;  // kmem_cache address -> caches_'s index
  std::vector<SlabCache> caches_;
  std::vector<uint64_t> per_cpu_offsets_;
  std::vector<std::string> problems_;
  std::map<uint64_t, std::set<uint64_t>> free_by_slab_;  // free_objects(), once per slab
};

}  // namespace coroner::linux_kernel
