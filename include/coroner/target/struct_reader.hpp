#pragma once
// Reading named fields of one kernel struct type at many addresses (every task, every module):
// member paths are looked up in DWARF once and remembered, so walking a list costs reads only.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "coroner/target/object.hpp"

namespace coroner {

class StructReader {
 public:
  // `type` is a C spelling ("struct task_struct"); fails when the debug info lacks it.
  static Result<StructReader> of(TypedMemory& objects, std::string_view type);

  const Type* type() const { return type_; }
  uint64_t size() const { return type_->size; }
  // A member path ("thread.sp", "signal") with offsets from the start of the struct.
  Result<Member> member(std::string_view path);
  bool has(std::string_view path) { return member(path).ok(); }
  uint64_t offset_of(std::string_view path) { return member(path).value_or(Member{}).offset; }

  // An integer, enum, pointer or bit-field member of the struct at `base`.
  Result<uint64_t> integer(uint64_t base, std::string_view path);
  // A char array member as a string (up to its first NUL).
  Result<std::string> text(uint64_t base, std::string_view path);
  // The address of a member of the struct at `base`.
  Result<uint64_t> address_of(uint64_t base, std::string_view path);

 private:
  StructReader(TypedMemory& objects, const Type* type) : objects_(&objects), type_(type) {}
  TypedMemory* objects_;
  const Type* type_;
  std::map<std::string, Result<Member>, std::less<>> members_;
};

}  // namespace coroner
