#pragma once
// Walking one of the kernel's xarrays (struct xarray, which is also what an IDR's radix_tree_root
// is since 4.20) to the pointers it holds, with their indices. The node layout (`shift`, the
// length of `slots`) comes from the debug info's struct xa_node. An unreadable node costs the
// indices below it and is said; the rest of the tree is still walked.
#include <cstdint>
#include <string>
#include <vector>

#include "coroner/target/object.hpp"

namespace coroner {

struct XarrayEntry {
  uint64_t index = 0;
  uint64_t pointer = 0;
};

struct XarrayWalk {
  std::vector<XarrayEntry> entries;   // pointer entries, in index order
  size_t values = 0;                  // value entries (xa_mk_value), not pointers: counted only
  std::vector<std::string> problems;  // unreadable nodes, inconsistent shifts, the limit
};

// `xarray` is the address of a struct xarray (or of a radix_tree_root that is one). Fails only
// when the debug info has no struct xarray with xa_head or no struct xa_node with shift and slots.
Result<XarrayWalk> walk_xarray(TypedMemory& objects, uint64_t xarray, size_t limit = 1000000);

}  // namespace coroner
