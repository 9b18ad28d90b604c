#pragma once
#include <cstdint>
#include <string>

namespace coroner {

// One stack a thread may run on: [low, high).
struct StackRange {
  std::string kind;  // "task", "IRQ", "NMI", "DF", ..., "thread", "interrupt"
  uint64_t low = 0, high = 0;
  bool contains(uint64_t a) const { return a >= low && a < high; }
};

}  // namespace coroner
