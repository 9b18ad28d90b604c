#pragma once
// Every 8-byte-aligned word of physical memory that holds a value (under a mask), at memory speed,
// each hit named: its kernel virtual address (the kernel image with the symbol, or the direct
// map), and when the page is part of a task's stack, which task and frame.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "coroner/os/linux/linux_view.hpp"

namespace coroner::linux_kernel {

struct SearchRequest {
  uint64_t value = 0;
  uint64_t mask = ~uint64_t{0};  // bits that must match
  size_t limit = 100000;         // hits kept; the scan still counts the rest
  bool name_hits = true;         // virtual addresses, symbols, stacks (needs the tasks)
  unsigned threads = 0;          // 0: one per core, as many as the dump's size pays for
};

struct SearchHit {
  uint64_t physical = 0;
  uint64_t word = 0;
  std::optional<uint64_t> virtual_address;  // kernel image or direct map
  std::string where;                        // "init_task+0x10", "direct map", "stack of pid 91 (cat) frame #2 ..."
};

struct SearchResult {
  std::vector<SearchHit> hits;
  uint64_t total_hits = 0;
  uint64_t bytes_scanned = 0;
  uint64_t bytes_unreadable = 0;  // pages the dump does not hold (filtered, holes)
  size_t threads = 1;             // the pass ran on
};

SearchResult search_physical(LinuxView& view, const SearchRequest& request);

// The physical pages of every task's stacks (vmalloc'd: found through the page tables), by
// page-aligned physical address.
struct StackPage {
  const Task* task = nullptr;
  uint64_t virtual_page = 0;
};
std::unordered_map<uint64_t, StackPage> stack_pages(LinuxView& view);

}  // namespace coroner::linux_kernel
