#pragma once
// Poison over the whole dump: every run of a catalog pattern in physical memory, grouped by pattern
// and by what holds it (free or allocated objects of a slab cache, other pages), and every object
// of a debug slab cache checked as SLUB's validate does: free objects whose poison was overwritten
// (writes after free) and broken red zones.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/os/linux/linux_view.hpp"
#include "coroner/os/linux/slub.hpp"
#include "coroner/poison/poison_catalog.hpp"

namespace coroner::linux_kernel {

struct PoisonRegion {
  uint64_t physical = 0, length = 0;
  const PoisonPattern* pattern = nullptr;
  uint64_t virtual_address = 0;  // in the direct map
  std::string what;              // "free object ffff... of coroner_obj (+0x0)", "page", ...
};

struct PoisonGroup {
  std::string pattern, holder;  // holder: "free objects of coroner_obj", "pages (not slab)"
  uint64_t runs = 0, bytes = 0;
  std::vector<PoisonRegion> examples;
};

struct DamagedObject {
  const SlabCache* cache = nullptr;
  uint64_t object = 0;
  bool free = false;
  std::vector<ObjectDamage> damage;
  std::optional<Track> freed;  // with SLAB_STORE_USER: who freed it
};

struct ScanRequest {
  std::vector<const PoisonPattern*> patterns;  // the dump's OS's, by default
  size_t min_run = 32;
  size_t examples = 3;       // regions kept per group
  bool check_slabs = true;   // SLUB's poison and red-zone check of every debug cache's objects
  uint64_t low = 0, high = ~uint64_t{0};  // the physical range scanned (the slab check is not limited)
  unsigned threads = 0;                   // for the pass; 0: one per core, for a large dump
};

struct ScanResult {
  std::vector<PoisonGroup> groups;  // most bytes first
  std::vector<DamagedObject> damaged;
  uint64_t bytes_scanned = 0, bytes_unreadable = 0, runs = 0;
  double scan_seconds = 0;  // the memory pass alone
  size_t scan_threads = 1;
};

ScanResult scan_poison(LinuxView& view, Slub* slub, const ScanRequest& request);

}  // namespace coroner::linux_kernel
