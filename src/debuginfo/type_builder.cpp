// DebugInfo's C types, built from DWARF DIEs on first use and kept by DIE offset.
#include <libdwarf/dwarf.h>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/format.hpp"

namespace coroner {
namespace {

constexpr int kMaxBuildDepth = 256;

BaseEncoding encoding_of(uint64_t ate, uint64_t size) {
  switch (ate) {
    case DW_ATE_signed: return BaseEncoding::signed_int;
    case DW_ATE_unsigned: return BaseEncoding::unsigned_int;
    case DW_ATE_signed_char: return size == 1 ? BaseEncoding::signed_char : BaseEncoding::signed_int;
    case DW_ATE_unsigned_char: return size == 1 ? BaseEncoding::unsigned_char : BaseEncoding::unsigned_int;
    case DW_ATE_boolean: return BaseEncoding::boolean;
    case DW_ATE_float: return BaseEncoding::floating;
    case DW_ATE_UTF: return BaseEncoding::unsigned_int;
    default: return BaseEncoding::other;
  }
}

}  // namespace

Type& DebugInfo::make(TypeKind kind, uint64_t die) {
  Type& t = types_.emplace_back();
  t.kind = kind;
  t.die = {this, die};
  // What refers to another type refers to void until that is built: a cycle back to this one, or
  // a build that fails half-way, sees a type, never null.
  if (kind == TypeKind::pointer || kind == TypeKind::typedef_name || kind == TypeKind::qualified ||
      kind == TypeKind::array || kind == TypeKind::function) {
    t.target = &void_;
  }
  if (die) by_die_[die] = &t;
  return t;
}

Result<const Type*> DebugInfo::type_at(uint64_t die) {
  if (btf_) return build_btf(static_cast<uint32_t>(die), 0);
  return build(die, 0);
}

Result<const Type*> DebugInfo::referenced(const std::optional<uint64_t>& die, int depth) {
  if (!die) return const_cast<const Type*>(&void_);
  return build(*die, depth + 1);
}

Result<const Type*> DebugInfo::build(uint64_t die, int depth) {
  if (auto it = by_die_.find(die); it != by_die_.end()) return it->second;
  if (depth > kMaxBuildDepth) {
    return make_error(path() + ": .debug_info+" + hex(die) + ": types nest more than " +
                      std::to_string(kMaxBuildDepth) + " deep; the debug info looks corrupt");
  }
  auto facts = dies_->read(die);
  if (!facts) return facts.error();
  auto built = build_from(*facts, depth);
  if (!built) by_die_.erase(die);  // half-built: asked again, it says why again
  return built;
}

Result<const Type*> DebugInfo::build_from(const DieFacts& f, int depth) {
  switch (f.tag) {
    case DW_TAG_base_type: {
      Type& t = make(TypeKind::base, f.offset);
      t.name = f.name;
      t.size = f.byte_size.value_or(0);
      t.encoding = encoding_of(f.encoding, t.size);
      return &t;
    }
    case DW_TAG_unspecified_type: return const_cast<const Type*>(&void_);
    case DW_TAG_pointer_type: case DW_TAG_reference_type: case DW_TAG_rvalue_reference_type:
    case DW_TAG_typedef:
    case DW_TAG_const_type: case DW_TAG_volatile_type: case DW_TAG_restrict_type: case DW_TAG_atomic_type:
      return build_wrapper(f, depth);
    case DW_TAG_structure_type: case DW_TAG_union_type: case DW_TAG_class_type: return build_aggregate(f, depth);
    case DW_TAG_enumeration_type: return build_enumeration(f, depth);
    case DW_TAG_array_type: return build_array(f, depth);
    case DW_TAG_subroutine_type: case DW_TAG_subprogram:
      if (f.tag == DW_TAG_subprogram && !f.type && f.specification) return build(*f.specification, depth + 1);
      return build_function(f, depth);
    case DW_TAG_variable: case DW_TAG_member: case DW_TAG_formal_parameter:
      // A definition often carries only DW_AT_specification; the declaration has the type.
      if (!f.type && f.specification) return build(*f.specification, depth + 1);
      return referenced(f.type, depth);
    default: return make_error(path() + ": .debug_info+" + hex(f.offset) + ": DIE tag " + hex(f.tag) + " is not a type");
  }
}

// A pointer, typedef or qualifier: a name or a property over the type it refers to.
Result<const Type*> DebugInfo::build_wrapper(const DieFacts& f, int depth) {
  TypeKind kind = f.tag == DW_TAG_typedef ? TypeKind::typedef_name
                  : f.tag == DW_TAG_pointer_type || f.tag == DW_TAG_reference_type || f.tag == DW_TAG_rvalue_reference_type
                      ? TypeKind::pointer
                      : TypeKind::qualified;
  Type& t = make(kind, f.offset);
  // What does not depend on the target is set first: a cycle back to this DIE sees it.
  if (kind == TypeKind::pointer) t.size = f.byte_size.value_or(8);
  if (kind == TypeKind::typedef_name) t.name = f.name;
  t.is_const = f.tag == DW_TAG_const_type;
  t.is_volatile = f.tag == DW_TAG_volatile_type;
  t.is_restrict = f.tag == DW_TAG_restrict_type;
  auto target = referenced(f.type, depth);
  if (!target) return target.error();
  t.target = *target;
  if (kind == TypeKind::typedef_name) t.size = size_of(&t);
  if (kind == TypeKind::qualified) t.size = t.target->size;
  return &t;
}

// A struct or union; a declaration resolves to the definition of the same name when there is one.
Result<const Type*> DebugInfo::build_aggregate(const DieFacts& f, int depth) {
  bool is_union = f.tag == DW_TAG_union_type;
  if (f.declaration && !f.name.empty()) {
    auto def = index_.find(is_union ? NameKind::union_type : NameKind::structure, f.name);
    if (def && !def->declaration && def->die != f.offset) {
      auto resolved = build(def->die, depth + 1);
      if (resolved) by_die_[f.offset] = *resolved;
      return resolved;
    }
  }
  Type& t = make(is_union ? TypeKind::union_type : TypeKind::structure, f.offset);
  t.name = f.name;
  t.size = f.byte_size.value_or(0);
  t.incomplete = f.declaration;
  return &t;
}

Result<const Type*> DebugInfo::build_enumeration(const DieFacts& f, int depth) {
  if (f.declaration && !f.name.empty()) {
    auto def = index_.find(NameKind::enumeration, f.name);
    if (def && !def->declaration && def->die != f.offset) return build(def->die, depth + 1);
  }
  Type& t = make(TypeKind::enumeration, f.offset);
  t.name = f.name;
  t.size = f.byte_size.value_or(4);
  t.incomplete = f.declaration;
  if (f.type) {
    auto underlying = build(*f.type, depth + 1);
    if (underlying) t.target = *underlying;
  }
  auto children = dies_->children(f.offset);
  if (!children) return children.error();
  for (const auto& c : *children) {
    if (c.tag == DW_TAG_enumerator) t.enumerators.push_back({c.name, c.const_value.value_or(0), c.const_value_signed});
  }
  return &t;
}

Result<const Type*> DebugInfo::build_array(const DieFacts& f, int depth) {
  auto children = dies_->children(f.offset);
  if (!children) return children.error();
  std::vector<std::optional<uint64_t>> dims;
  for (const auto& c : *children) {
    if (c.tag != DW_TAG_subrange_type && c.tag != DW_TAG_enumeration_type) continue;
    if (c.count) {
      dims.push_back(*c.count);
    } else if (c.upper_bound) {
      // GCC writes [0] as upper bound -1 (all ones in whatever width it chose).
      bool minus_one = *c.upper_bound == UINT64_MAX || *c.upper_bound == UINT32_MAX;
      dims.push_back(minus_one ? 0 : *c.upper_bound - c.lower_bound + 1);
    } else {
      dims.push_back(std::nullopt);  // flexible array member
    }
  }
  if (dims.empty()) dims.push_back(std::nullopt);
  auto element = referenced(f.type, depth);
  if (!element) return element.error();
  // int a[2][3]: an array of 2 arrays of 3; the DIE's own type is the outermost.
  const Type* inner = *element;
  for (size_t i = dims.size(); i-- > 0;) {
    Type& t = make(TypeKind::array, i == 0 ? f.offset : 0);
    t.target = inner;
    t.count = dims[i];
    t.size = dims[i].value_or(0) * size_of(inner);
    inner = &t;
  }
  return inner;
}

Result<const Type*> DebugInfo::build_function(const DieFacts& f, int depth) {
  Type& t = make(TypeKind::function, f.offset);
  t.name = f.tag == DW_TAG_subprogram ? f.name : "";
  t.prototyped = f.prototyped;
  auto ret = referenced(f.type, depth);
  if (!ret) return ret.error();
  t.target = *ret;
  if (!f.has_children) return &t;
  auto children = dies_->children(f.offset);
  if (!children) return children.error();
  for (const auto& c : *children) {
    if (c.tag == DW_TAG_unspecified_parameters) t.variadic = true;
    if (c.tag != DW_TAG_formal_parameter) continue;
    auto p = referenced(c.type, depth);
    if (!p) return p.error();
    t.parameters.push_back(*p);
  }
  return &t;
}

}  // namespace coroner
