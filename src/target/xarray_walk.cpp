#include "coroner/target/xarray_walk.hpp"

#include <unordered_set>

#include "coroner/format.hpp"
#include "coroner/target/struct_reader.hpp"

namespace coroner {
namespace {

// The entry encoding of include/linux/xarray.h: pointers are 4-byte aligned, value entries have
// bit 0 set, internal entries end in 0b10; an internal entry above 4096 is a node's address + 2,
// the small ones are sibling, retry and zero markers that hold nothing.
bool is_value(uint64_t entry) { return entry & 1; }
bool is_internal(uint64_t entry) { return (entry & 3) == 2; }
bool is_node(uint64_t entry) { return is_internal(entry) && entry > 4096; }

class XarrayWalker {
 public:
  XarrayWalker(TypedMemory& objects, uint64_t shift_offset, uint64_t slots_offset, uint64_t slot_count, size_t limit)
      : kernel_(objects.kernel()), shift_offset_(shift_offset), slots_offset_(slots_offset),
        slot_count_(slot_count), limit_(limit) {}

  // `shift` is what the parent's shift says this node's must be (-1 at the root: any).
  void visit(uint64_t entry, uint64_t index, int expected_shift) {
    if (entry == 0 || done()) return;
    if (is_value(entry)) {
      ++walk_.values;
    } else if (is_node(entry)) {
      visit_node(entry - 2, index, expected_shift);
    } else if (!is_internal(entry)) {
      walk_.entries.push_back({index, entry});
    }
  }

  XarrayWalk take() { return std::move(walk_); }

 private:
  bool done() {
    if (walk_.entries.size() < limit_) return false;
    if (!limited_) walk_.problems.push_back("stopped at " + std::to_string(limit_) + " entries");
    limited_ = true;
    return true;
  }

  void visit_node(uint64_t node, uint64_t index, int expected_shift) {
    if (!seen_.insert(node).second) {
      walk_.problems.push_back("xa_node " + hex(node) + " is reached twice: a cycle, not followed");
      return;
    }
    auto shift = kernel_.read_value<uint8_t>(node + shift_offset_);
    std::vector<uint64_t> slots(slot_count_);
    Status read = shift ? kernel_.read(node + slots_offset_, {reinterpret_cast<uint8_t*>(slots.data()), slots.size() * 8})
                        : Status(shift.error());
    if (!read) {
      walk_.problems.push_back("xa_node " + hex(node) + " (indices from " + std::to_string(index) +
                               ") unreadable: " + read.error().message);
      return;
    }
    if (*shift >= 64 || (expected_shift >= 0 && *shift != expected_shift)) {
      walk_.problems.push_back("xa_node " + hex(node) + " has shift " + std::to_string(*shift) +
                               (expected_shift >= 0 ? ", its parent's says " + std::to_string(expected_shift) : "") +
                               ": not a node, not followed");
      return;
    }
    int child_shift = *shift >= chunk_shift() ? *shift - chunk_shift() : -2;
    for (uint64_t i = 0; i < slot_count_; ++i) {
      uint64_t child_index = index + (i << *shift);
      if (child_shift == -2 && is_node(slots[i])) {
        walk_.problems.push_back("xa_node " + hex(node) + " is a leaf (shift 0) but slot " + std::to_string(i) +
                                 " holds a node: not followed");
        continue;
      }
      visit(slots[i], child_index, child_shift);
    }
  }

  int chunk_shift() const {
    int bits = 0;
    while ((uint64_t{1} << bits) < slot_count_) ++bits;
    return bits;
  }

  const Kernel& kernel_;
  uint64_t shift_offset_, slots_offset_, slot_count_;
  size_t limit_;
  bool limited_ = false;
  std::unordered_set<uint64_t> seen_;
  XarrayWalk walk_;
};

}  // namespace

Result<XarrayWalk> walk_xarray(TypedMemory& objects, uint64_t xarray, size_t limit) {
  auto root = StructReader::of(objects, "struct xarray");
  if (!root) return root.error();
  auto head = root->member("xa_head");
  if (!head) return make_error("struct xarray has no xa_head: " + head.error().message);
  auto node = StructReader::of(objects, "struct xa_node");
  if (!node) return node.error();
  auto shift = node->member("shift");
  auto slots = node->member("slots");
  if (!shift || !slots) return make_error("struct xa_node has no shift or no slots member: its nodes cannot be read");
  const Type* array = strip_typedefs(slots->type);
  if (array->kind != TypeKind::array || !array->count || *array->count == 0 || *array->count > 4096 ||
      (*array->count & (*array->count - 1)) != 0) {
    return make_error("struct xa_node's slots is not an array of a power of two entries");
  }
  auto first = objects.kernel().read_u64(xarray + head->offset);
  if (!first) return make_error("xarray at " + hex(xarray) + ": xa_head unreadable: " + first.error().message);
  XarrayWalker walker(objects, shift->offset, slots->offset, *array->count, limit);
  walker.visit(*first, 0, -1);
  return walker.take();
}

}  // namespace coroner
