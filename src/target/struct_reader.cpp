#include "coroner/target/struct_reader.hpp"

namespace coroner {

Result<StructReader> StructReader::of(TypedMemory& objects, std::string_view type) {
  auto t = objects.debug().find_type(type);
  if (!t) return t.error();
  const Type* s = strip_typedefs(*t);
  if (!s || (s->kind != TypeKind::structure && s->kind != TypeKind::union_type) || s->size == 0) {
    return make_error(std::string(type) + " is not a complete struct or union in " + objects.debug().path());
  }
  return StructReader(objects, s);
}

Result<Member> StructReader::member(std::string_view path) {
  auto it = members_.find(path);
  if (it == members_.end()) {
    it = members_.emplace(std::string(path), objects_->debug().find_member_path(type_, path)).first;
  }
  return it->second;
}

Result<uint64_t> StructReader::integer(uint64_t base, std::string_view path) {
  auto m = member(path);
  if (!m) return m.error();
  return objects_->integer(member_value(*m, base));
}

Result<std::string> StructReader::text(uint64_t base, std::string_view path) {
  auto m = member(path);
  if (!m) return m.error();
  auto bytes = objects_->bytes(member_value(*m, base));
  if (!bytes) return bytes.error();
  std::string s(bytes->begin(), bytes->end());
  return s.substr(0, s.find('\0'));
}

Result<uint64_t> StructReader::address_of(uint64_t base, std::string_view path) {
  auto m = member(path);
  if (!m) return m.error();
  return base + m->offset;
}

}  // namespace coroner
