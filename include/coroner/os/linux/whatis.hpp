#pragma once
// What an address is (mdb's ::whatis, crash's kmem ADDR): kernel text or data and its symbol; a
// module's; a task's stack and the frame there; a slab object (cache, object, offset, allocated
// or free, who allocated and freed it); another page of RAM (struct page, flags); vmalloc space;
// user space; or nothing mapped.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/address_kind.hpp"
#include "coroner/os/identity.hpp"
#include "coroner/os/linux/linux_view.hpp"
#include "coroner/os/linux/slub.hpp"
#include "coroner/os/linux/stack_references.hpp"

namespace coroner::linux_kernel {



// `slub` may be null (no SLUB in this kernel, or unreadable): slab pages then read as pages.
Identity what_is(LinuxView& view, Slub* slub, uint64_t address);

}  // namespace coroner::linux_kernel
