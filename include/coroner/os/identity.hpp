#pragma once
// What an address is, on every kernel (mdb's ::whatis, crash's kmem ADDR): kernel text or data
// and its symbol; a module's; a thread's stack and the frame there; an allocator's object (Linux's
// SLUB slab object, illumos kmem's buffer: cache, free or allocated, who last freed or allocated
// it); another page of RAM; vmalloc or user space; and the poison the word there holds.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/address_kind.hpp"
#include "coroner/os/linux/slub.hpp"
#include "coroner/os/model/kmem_buffers.hpp"
#include "coroner/poison/poison_catalog.hpp"
#include "coroner/target/code_location.hpp"
#include "coroner/target/stack_slot.hpp"
#include "coroner/target/thread.hpp"

namespace coroner {

struct Identity {
  uint64_t address = 0;
  AddressKind kind = AddressKind::unknown;
  std::string summary;                    // one line: "free object in cache coroner_obj"
  CodeLocation symbol;                    // kernel image or module symbol
  const Thread* thread = nullptr;         // whose stack
  std::string stack;                      // "task", "IRQ", ...; a model's "thread"
  std::optional<SlotPlace> stack_place;   // the frame holding it
  std::optional<linux_kernel::SlabObject> slab;  // Linux's SLUB
  std::optional<os_model::KmemBuffer> buffer;    // illumos kmem
  std::optional<uint64_t> pfn, page;      // RAM: page frame and its struct page
  std::vector<std::string> page_flags;    // "slab", "head", "lru", ...
  std::vector<std::string> page_type;     // "slab", "buddy", ... where page_type names one
  std::optional<uint64_t> physical;       // when mapped
  std::optional<uint64_t> word;           // the 8-byte word at the (aligned) address, when readable
  std::optional<PoisonMatch> poison;      // what that word's pattern means
  std::vector<std::string> problems;      // what could not be read on the way
};

}  // namespace coroner
