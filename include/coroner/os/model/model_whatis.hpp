#pragma once
// What an address is in a kernel described by an OS model (mdb's ::whatis): a kernel symbol, a
// place on a thread's stack, an allocator buffer (free or allocated, and who last freed or
// allocated it).
#include <cstdint>

#include "coroner/os/identity.hpp"
#include "coroner/os/model/kmem_buffers.hpp"
#include "coroner/os/model/model_threads.hpp"

namespace coroner::os_model {

// `kmem` may be null (no allocator model); the word and its poison are the caller's to add.
Identity what_is(const Unwinder& unwinder, const ThreadList& threads, const KmemBuffers* kmem, uint64_t address);

}  // namespace coroner::os_model
