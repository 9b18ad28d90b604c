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
#include "coroner/os/linux/linux_view.hpp"
#include "coroner/os/linux/slub.hpp"
#include "coroner/os/linux/stack_references.hpp"

namespace coroner::linux_kernel {


struct WhatIs {
  uint64_t address = 0;
  AddressKind kind = AddressKind::unknown;
  std::string summary;                    // one line: "free object in cache coroner_obj"
  CodeLocation symbol;                    // kernel image or module symbol
  const Task* task = nullptr;             // whose stack
  std::string stack;                      // "task", "IRQ", ...
  std::optional<SlotPlace> stack_place;  // the frame holding it
  std::optional<SlabObject> slab;
  std::optional<uint64_t> pfn, page;      // RAM: page frame and its struct page
  std::vector<std::string> page_flags;    // "slab", "head", "lru", ...
  std::vector<std::string> page_type;     // "slab", "buddy", ... where page_type names one
  std::optional<uint64_t> physical;       // when mapped
  std::vector<std::string> problems;      // what could not be read on the way
};

// `slub` may be null (no SLUB in this kernel, or unreadable): slab pages then read as pages.
WhatIs what_is(LinuxView& view, Slub* slub, uint64_t address);

}  // namespace coroner::linux_kernel
