#include "coroner/analysis/object_index.hpp"

#include <algorithm>

namespace coroner::analysis {

void ObjectIndex::add(size_t object, uint64_t start, uint64_t size) {
  sorted_ = sorted_ && (ranges_.empty() || ranges_.back().start <= start);
  ranges_.push_back({start, size ? size : 1, object});
}

std::optional<size_t> ObjectIndex::find(uint64_t value) const {
  if (!sorted_) {
    std::sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) { return a.start < b.start; });
    sorted_ = true;
  }
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), value, [](uint64_t v, const Range& r) { return v < r.start; });
  if (it == ranges_.begin()) return std::nullopt;
  --it;
  if (value - it->start >= it->size) return std::nullopt;
  return it->object;
}

void add_holder_of(const ObjectIndex& index, std::vector<rules::ObjectFacts>& objects, size_t thread, uint64_t value,
                   StackSlot slot, const std::function<std::string()>& where) {
  if (slot == StackSlot::below_stack_pointer) return;  // a dead slot holds nothing
  if (auto object = index.find(value)) add_holder(objects[*object], thread, where());
}

void add_holder(rules::ObjectFacts& object, size_t thread, std::string where) {
  for (const auto& h : object.holders) {
    if (h.thread == thread) return;
  }
  object.holders.push_back({thread, std::move(where)});
}

}  // namespace coroner::analysis
