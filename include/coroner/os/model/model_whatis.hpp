#pragma once
// What an address is in a kernel described by an OS model (mdb's ::whatis): a kernel symbol, a
// place on a thread's stack, an allocator buffer (free or allocated, and who last freed or
// allocated it), and the poison the word there holds.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/os/model/kmem_buffers.hpp"
#include "coroner/os/model/model_threads.hpp"
#include "coroner/poison/poison_catalog.hpp"
#include "coroner/target/object.hpp"

namespace coroner::os_model {

struct ModelStackPlace {
  size_t thread = 0;  // index into ModelThreads::threads
  std::string place;  // "frame #4 hati_page_unmap+0xe5", "below the stack pointer"
};

struct ModelWhatIs {
  uint64_t address = 0;
  std::string symbol;  // "htable_cache+0x10"; empty when no symbol covers it
  std::optional<KmemBuffer> buffer;
  std::optional<ModelStackPlace> stack;
  std::optional<uint64_t> word;  // the 8-byte word at the (aligned) address, when readable
  std::optional<PoisonMatch> poison;  // what that word's pattern means
};

ModelWhatIs what_is(const Unwinder& unwinder, const ModelThreads& threads, const KmemBuffers* kmem, const PoisonCatalog& poison, const std::string& os, uint64_t address);

}  // namespace coroner::os_model
