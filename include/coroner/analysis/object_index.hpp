#pragma once
// The objects of a crash's facts by address, for the one pass over every stack that finds who
// holds them: which object a value points into (binary search over sorted ranges), and each
// holding thread recorded once.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "coroner/rules/rule_engine.hpp"
#include "coroner/target/stack_slot.hpp"

namespace coroner::analysis {

// The objects one crash's facts hold at most: the rules need the few the crash touched, and a
// corrupt dump must not make the analysis follow pointers without end.
constexpr size_t kMaxObjects = 64;

class ObjectIndex {
 public:
  // Object `object` (an index into Facts::objects) covers [start, start + size).
  void add(size_t object, uint64_t start, uint64_t size);
  bool empty() const { return ranges_.empty(); }
  // The object `value` points into; ranges are assumed not to overlap.
  std::optional<size_t> find(uint64_t value) const;

 private:
  struct Range {
    uint64_t start, size;
    size_t object;
  };
  mutable std::vector<Range> ranges_;
  mutable bool sorted_ = true;
};

// Records `thread` as a holder of `object`, once.
void add_holder(rules::ObjectFacts& object, size_t thread, std::string where);
// A word `value` that `thread` holds (a stack slot at `slot`, or a register): the thread holds the
// object it points into, unless the word lies in a dead frame. `where` is said only when it holds.
void add_holder_of(const ObjectIndex& index, std::vector<rules::ObjectFacts>& objects, size_t thread, uint64_t value,
                   StackSlot slot, const std::function<std::string()>& where);

}  // namespace coroner::analysis
