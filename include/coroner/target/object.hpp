#pragma once
// Typed objects in the dumped kernel's memory: a Value is an lvalue (address + type, maybe a bit
// field) or an rvalue (bytes + type). Reads go through Kernel and can fail per page: a struct
// whose second page is missing still shows its first.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/target/kernel.hpp"

namespace coroner {

struct Value {
  const Type* type = nullptr;
  std::optional<uint64_t> address;  // set for lvalues
  std::vector<uint8_t> bytes;       // rvalues: the value itself
  uint32_t bit_size = 0;            // bit field: `bit_offset` bits past `address`
  uint32_t bit_offset = 0;
};

// Bytes of an object read page by page; `missing` says why the unreadable ranges are unreadable.
struct ObjectBytes {
  uint64_t address = 0;
  std::vector<uint8_t> data;
  std::vector<std::pair<uint64_t, uint64_t>> missing;  // [start, end) offsets into data
  std::string why_missing;                             // the first read error
  bool readable(uint64_t offset, uint64_t length) const;
  // How many bytes from the start are readable without a gap (code to decode, a string to show).
  size_t readable_prefix() const;
};

// Memory read as the debug info types it: typed values, members, variables, object bytes.
class TypedMemory {
 public:
  TypedMemory(const Kernel& kernel, DebugInfo& debug) : kernel_(kernel), debug_(debug) {}
  const Kernel& kernel() const { return kernel_; }
  DebugInfo& debug() { return debug_; }

  ObjectBytes read_object(uint64_t address, uint64_t size) const;
  // The value as an integer (sign-extended for signed types; bit fields extracted).
  Result<uint64_t> integer(const Value& v) const;
  Result<std::vector<uint8_t>> bytes(const Value& v) const;
  Value lvalue(const Type* t, uint64_t address) const { return Value{t, address, {}, 0, 0}; }
  Value rvalue(const Type* t, uint64_t bits) const;
  // A global variable, typed from DWARF and placed from the symbol table (KASLR applied).
  Result<Value> variable(std::string_view name);
  // A member of the `type` at `address`, by a path of members through nested structs and arrays
  // ("d_hash.pprev", "mem[4].base"; "[2]" first: the third `type` from `address`). Pointers are
  // not followed: a rule's field is part of the object it tests.
  Result<Value> field(const Type* type, uint64_t address, std::string_view path);

 private:
  const Kernel& kernel_;
  DebugInfo& debug_;
};

// A member of a struct at `container` (nullopt: no address yet) as a Value: its type, its
// address, and for a bit field the bits past that address.
Value member_value(const Member& m, std::optional<uint64_t> container);

// Bits [bit_offset, bit_offset+bit_size) of little-endian `bytes`, sign-extended when asked.
uint64_t extract_bits(const uint8_t* bytes, size_t length, uint64_t bit_offset, uint32_t bit_size, bool sign);

}  // namespace coroner
