#pragma once
// Stack traces the kernel saved in its stack depot (lib/stackdepot.c) by 32-bit handle: SLUB's
// alloc and free tracks keep only the handle. The handle's bit fields come from DWARF (union
// handle_parts): slab index and offset before 6.3 (stack_slabs), pool index and offset since
// (stack_pools).
#include <cstdint>
#include <vector>

#include "coroner/target/object.hpp"

namespace coroner::linux_kernel {

// The return addresses saved under `handle`, innermost first; empty for handle 0.
Result<std::vector<uint64_t>> depot_stack(TypedMemory& objects, uint32_t handle);

}  // namespace coroner::linux_kernel
