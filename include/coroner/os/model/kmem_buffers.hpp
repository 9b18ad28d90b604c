#pragma once
// illumos kmem, enough to tell a freed buffer from a live one: the caches on kmem_null_cache's
// list, and each buffer's buftag (KMF_BUFTAG caches keep it right after the buffer): its redzone
// word must be KMEM_REDZONE_PATTERN, and bt_bxstat ^ bt_bufctl says free (KMEM_BUFTAG_FREE) or
// allocated (KMEM_BUFTAG_ALLOC); with KMF_AUDIT the bufctl is an audit record naming the thread.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/os/model/os_model.hpp"
#include "coroner/target/object.hpp"

namespace coroner::os_model {

struct KmemBuffer {
  uint64_t address = 0, size = 0;
  std::string cache;
  bool free = false;
  uint64_t bufctl = 0;
  std::optional<uint64_t> last_thread;  // the audit record's bc_thread: who freed (or allocated) it last
};

class KmemBuffers {
 public:
  // nullopt when the model has no illumos-kmem allocator or its cache list is unreadable.
  static std::optional<KmemBuffers> read(Objects& objects, const OsModel& model);
  // The buffer that starts at `address`, checked through its buftag in every cache.
  std::optional<KmemBuffer> buffer_at(uint64_t address) const;

 private:
  struct Cache {
    uint64_t address = 0, bufsize = 0, buftag = 0;
    std::string name;
  };
  // Where kmem_buftag_t's and kmem_bufctl_audit_t's members are, from DWARF, found once: every
  // word of a stack is checked against every cache.
  struct Layout {
    uint64_t redzone = 0, bufctl = 0, bxstat = 0;    // in the buftag
    uint64_t bc_addr = 0, bc_cache = 0, bc_thread = 0;  // in the audit record
  };
  explicit KmemBuffers(Objects& objects) : objects_(&objects) {}
  Objects* objects_;
  Layout layout_;
  std::vector<Cache> caches_;
};

}  // namespace coroner::os_model
