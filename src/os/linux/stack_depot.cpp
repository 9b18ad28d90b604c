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

Result<std::vector<uint64_t>> depot_stack(Objects& objects, uint32_t handle) {
  if (!handle) return std::vector<uint64_t>{};
  auto parts = StructReader::of(objects, "union handle_parts");
  if (!parts) return parts.error();
  bool pools = parts->has("pool_index");
  auto index_field = parts->member(pools ? "pool_index" : "slabindex");
  auto offset_field = parts->member("offset");
  if (!index_field || !offset_field) return make_error("union handle_parts has no slab index or offset");
  const char* array = pools ? "stack_pools" : "stack_slabs";
  auto slabs = objects.kernel().symbol_address(array);
  if (!slabs) return make_error(std::string("no symbol ") + array + " in the vmlinux: no stack depot?");
  uint64_t index = bits(handle, *index_field), offset = uint64_t{bits(handle, *offset_field)} << kDepotAlign;
  auto slab = objects.kernel().read_u64(*slabs + 8 * index);
  if (!slab) return slab.error();
  if (!*slab) return make_error("stack depot handle " + hex(handle) + ": slab " + std::to_string(index) + " is empty");
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
