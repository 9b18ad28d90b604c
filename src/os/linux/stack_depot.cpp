#include "coroner/os/linux/stack_depot.hpp"

#include "coroner/format.hpp"
#include "coroner/target/struct_reader.hpp"

namespace coroner::linux_kernel {
namespace {

constexpr uint32_t kMaxEntries = 128;  // the kernel keeps at most 64 (CONFIG_STACKDEPOT's depth)
constexpr unsigned kDepotAlign = 4;    // DEPOT_STACK_ALIGN: offsets count 16-byte units

uint32_t bits(uint32_t word, const Member& m) {
  uint32_t shift = static_cast<uint32_t>(m.bit_offset % 32);
  return m.bit_size >= 32 ? word : (word >> shift) & ((1u << m.bit_size) - 1);
}

}  // namespace

Result<std::vector<uint64_t>> depot_stack(TypedMemory& objects, uint32_t handle) {
  if (!handle) return std::vector<uint64_t>{};
  auto parts = StructReader::of(objects, "union handle_parts");
  if (!parts) return parts.error();
  // The pool's index is stored as is (pool_index, slabindex before pools), or plus one so that a
  // zero handle is never valid (pool_index_plus_1).
  const char* index_name = nullptr;
  for (const char* name : {"pool_index_plus_1", "pool_index", "slabindex"}) {
    if (parts->has(name)) {
      index_name = name;
      break;
    }
  }
  auto offset_field = parts->member("offset");
  if (!index_name || !offset_field) {
    return make_error("union handle_parts has no pool_index_plus_1, pool_index or slabindex, or no offset");
  }
  const bool plus_one = std::string_view(index_name) == "pool_index_plus_1";
  const char* array = std::string_view(index_name) == "slabindex" ? "stack_slabs" : "stack_pools";
  auto pools = objects.kernel().symbol_address(array);
  if (!pools) return make_error(std::string("no symbol ") + array + " in the vmlinux: no stack depot?");
  uint64_t stored = bits(handle, *parts->member(index_name)), offset = uint64_t{bits(handle, *offset_field)} << kDepotAlign;
  if (plus_one && stored == 0) return make_error("stack depot handle " + hex(handle) + " names no pool");
  uint64_t index = plus_one ? stored - 1 : stored;
  // An array of pool pointers, or a pointer to one (allocated at boot).
  uint64_t table = *pools;
  if (auto v = objects.debug().find_variable(array); v && strip_typedefs(v->type) && strip_typedefs(v->type)->kind == TypeKind::pointer) {
    auto p = objects.kernel().read_u64(*pools);
    if (!p) return p.error();
    table = *p;
  }
  auto slab = objects.kernel().read_u64(table + 8 * index);
  if (!slab) return slab.error();
  if (!*slab) return make_error("stack depot handle " + hex(handle) + ": pool " + std::to_string(index) + " is empty");
  auto record = StructReader::of(objects, "struct stack_record");
  if (!record) return record.error();
  uint64_t at = *slab + offset;
  auto size = record->integer(at, "size");
  auto entries = record->address_of(at, "entries");
  if (!size || !entries) return make_error("stack depot record at " + hex(at) + " is unreadable");
  if (*size > kMaxEntries) return make_error("stack depot record at " + hex(at) + " claims " + std::to_string(*size) + " entries");
  std::vector<uint64_t> stack(*size);
  auto st = objects.kernel().read(*entries, {reinterpret_cast<uint8_t*>(stack.data()), stack.size() * 8});
  if (!st) return st.error();
  return stack;
}

}  // namespace coroner::linux_kernel
