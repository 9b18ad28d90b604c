#pragma once
// illumos kmem, enough to tell a freed buffer from a live one: the caches on kmem_null_cache's
// list, and each buffer's buftag (KMF_BUFTAG caches keep it right after the buffer): its redzone
// word must be KMEM_REDZONE_PATTERN, and bt_bxstat ^ bt_bufctl says free (KMEM_BUFTAG_FREE) or
// allocated (KMEM_BUFTAG_ALLOC); with KMF_AUDIT the bufctl is an audit record naming the thread.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/os/allocation.hpp"
#include "coroner/os/model/os_model.hpp"
#include "coroner/target/object.hpp"

namespace coroner::os_model {

// A KMF_AUDIT bufctl: the last transaction on the buffer (its free, if the buffer is free).
struct KmemAudit {
  uint64_t thread = 0;     // bc_thread
  uint64_t timestamp = 0;  // bc_timestamp (hrtime_t, ns since boot)
  std::vector<uint64_t> stack;  // bc_stack[0 .. bc_depth): return addresses, innermost first
};

struct KmemBuffer {
  uint64_t address = 0, size = 0;
  uint64_t cache_address = 0;
  std::string cache;
  bool free = false;
  uint64_t bufctl = 0;
  std::optional<KmemAudit> audit;  // when the bufctl is an audit record naming this buffer and cache
};

// The buffer as an allocation; its audit record, when it has one, is its last allocation or free.
Allocation as_allocation(const KmemBuffer& buffer);

class KmemBuffers {
 public:
  // nullopt when the model has no illumos-kmem allocator or its cache list is unreadable.
  static std::optional<KmemBuffers> read(TypedMemory& objects, const OsModel& model);
  // The buffer that starts at `address`, checked through its buftag in every cache.
  std::optional<KmemBuffer> buffer_at(uint64_t address) const;
  // The buffer `address` falls inside (mdb's ::whatis): for each cache, the nearest start at or
  // below it whose buftag checks out.
  std::optional<KmemBuffer> buffer_containing(uint64_t address) const;

 private:
  struct Cache {
    uint64_t address = 0, bufsize = 0, buftag = 0;
    std::string name;
  };
  // Where kmem_buftag_t's and kmem_bufctl_audit_t's members are, from DWARF, found once: every
  // word of a stack is checked against every cache.
  struct Layout {
    uint64_t redzone = 0, bufctl = 0, bxstat = 0;    // in the buftag
    uint64_t bc_addr = 0, bc_cache = 0, bc_thread = 0, bc_timestamp = 0, bc_depth = 0, bc_stack = 0;  // audit record
    uint64_t bc_stack_slots = 0;  // KMEM_STACK_DEPTH, from bc_stack's array type
  };
  explicit KmemBuffers(TypedMemory& objects) : objects_(&objects) {}
  std::optional<KmemBuffer> check(const Cache& cache, uint64_t address) const;
  std::optional<KmemAudit> audit(const Cache& cache, uint64_t address, uint64_t bufctl) const;
  TypedMemory* objects_;
  Layout layout_;
  std::vector<Cache> caches_;
};

}  // namespace coroner::os_model
