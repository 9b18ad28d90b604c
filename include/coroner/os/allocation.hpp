#pragma once
// An allocator's object as analysis sees it on every kernel: Linux's SLUB slab object, illumos
// kmem's buffer. Where it starts, how big it is, its cache, whether it is free, and the last
// allocation and free the allocator recorded (SLUB's tracks with SLAB_STORE_USER, kmem's audit
// bufctl with KMF_AUDIT) when it keeps them.
#include <cstdint>
#include <optional>
#include <string>

namespace coroner {

struct AllocatorEvent {
  int64_t pid = -1;         // who (SLUB's track names a pid)
  uint64_t thread = 0;      // ... or the thread structure (kmem's bc_thread)
  uint64_t caller = 0;      // the allocator's caller, when recorded
  std::optional<uint64_t> when;  // in the allocator's clock (jiffies, hrtime), to order the two
  std::optional<double> age;     // seconds before the crash, when the clock's rate is known
};

struct Allocation {
  uint64_t start = 0, size = 0;
  std::string cache;
  bool free = false;
  std::string audit;  // what the allocator calls its record of the last transaction ("kmem audit")
  std::optional<AllocatorEvent> allocated, freed;  // the last of each it recorded
};

}  // namespace coroner
