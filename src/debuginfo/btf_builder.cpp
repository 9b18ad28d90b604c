// DebugInfo's C types built from BTF ids, the same Types the DWARF builder makes: a type's DieRef
// holds its id, and a struct's members are read on first use.
#include <bpf/btf.h>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/format.hpp"

namespace coroner {
namespace {

constexpr int kMaxBuildDepth = 256;

BaseEncoding int_encoding(const btf_type* t, std::string_view name) {
  uint8_t e = btf_int_encoding(t);
  if (e & BTF_INT_BOOL) return BaseEncoding::boolean;
  bool is_signed = (e & BTF_INT_SIGNED) != 0;
  if (t->size == 1 && ((e & BTF_INT_CHAR) || name.find("char") != std::string_view::npos)) {
    // Plain char is signed on x86-64, as the DWARF of the same kernel says (DW_ATE_signed_char).
    return name.starts_with("unsigned") ? BaseEncoding::unsigned_char : BaseEncoding::signed_char;
  }
  return is_signed ? BaseEncoding::signed_int : BaseEncoding::unsigned_int;
}

}  // namespace

Result<const Type*> DebugInfo::build_btf(uint32_t id, int depth) {
  if (id == 0) return const_cast<const Type*>(&void_);
  if (btf_base_ && id < btf_->first_own()) return btf_base_->build_btf(id, depth);
  if (auto it = by_die_.find(id); it != by_die_.end()) return it->second;
  if (depth > kMaxBuildDepth) {
    return make_error(path() + ": BTF type " + std::to_string(id) + ": types nest more than " +
                      std::to_string(kMaxBuildDepth) + " deep; the BTF looks corrupt");
  }
  const btf_type* b = btf_->type(id);
  if (!b) return make_error(path() + ": no BTF type " + std::to_string(id) + " (" + std::to_string(btf_->count()) + " types)");
  auto built = build_btf_type(id, b, depth);
  if (!built) by_die_.erase(id);  // half-built: asked again, it says why again
  return built;
}

Result<const Type*> DebugInfo::build_btf_type(uint32_t id, const btf_type* b, int depth) {
  std::string name(btf_->name(b->name_off));
  auto wrap = [&](TypeKind kind) -> Result<const Type*> {
    Type& t = make(kind, id);
    if (kind == TypeKind::pointer) t.size = 8;
    if (kind == TypeKind::typedef_name) t.name = name;
    t.is_const = btf_is_const(b);
    t.is_volatile = btf_is_volatile(b);
    t.is_restrict = btf_is_restrict(b);
    auto target = build_btf(b->type, depth + 1);
    if (!target) return target.error();
    t.target = *target;
    if (kind != TypeKind::pointer) t.size = size_of(&t);
    return &t;
  };
  switch (btf_kind(b)) {
    case BTF_KIND_INT: case BTF_KIND_FLOAT: {
      Type& t = make(TypeKind::base, id);
      t.name = name;
      t.size = b->size;
      t.encoding = btf_is_float(b) ? BaseEncoding::floating : int_encoding(b, name);
      return &t;
    }
    case BTF_KIND_PTR: return wrap(TypeKind::pointer);
    case BTF_KIND_TYPEDEF: return wrap(TypeKind::typedef_name);
    case BTF_KIND_CONST: case BTF_KIND_VOLATILE: case BTF_KIND_RESTRICT: return wrap(TypeKind::qualified);
    case BTF_KIND_TYPE_TAG: {  // __rcu, __user: an annotation, not a C type
      auto target = build_btf(b->type, depth + 1);
      if (target) by_die_[id] = *target;
      return target;
    }
    case BTF_KIND_STRUCT: case BTF_KIND_UNION: case BTF_KIND_FWD: return build_btf_aggregate(id, b, depth);
    case BTF_KIND_ENUM: case BTF_KIND_ENUM64: {
      Type& t = make(TypeKind::enumeration, id);
      t.name = name;
      t.size = b->size;
      bool is_signed = btf_kflag(b);
      for (uint16_t i = 0; i < btf_vlen(b); ++i) {
        if (btf_is_enum(b)) {
          const struct btf_enum& e = btf_enum(b)[i];
          t.enumerators.push_back({std::string(btf_->name(e.name_off)), static_cast<uint64_t>(int64_t{e.val}), is_signed});
        } else {
          const struct btf_enum64& e = btf_enum64(b)[i];
          t.enumerators.push_back({std::string(btf_->name(e.name_off)), btf_enum64_value(&e), is_signed});
        }
      }
      return &t;
    }
    case BTF_KIND_ARRAY: {
      const struct btf_array* a = btf_array(b);
      Type& t = make(TypeKind::array, id);
      // BTF writes both [] and [0] as 0 elements; the kernel's structs mostly mean [0] (cache-line
      // group markers), so that is how they read. It also writes int a[3][1] as a[3]: one
      // dimension, the product of all (pahole's choice); sizes and offsets are the same.
      t.count = a->nelems;
      auto element = build_btf(a->type, depth + 1);
      if (!element) return element.error();
      t.target = *element;
      t.size = uint64_t{a->nelems} * size_of(t.target);
      return &t;
    }
    case BTF_KIND_FUNC_PROTO: {
      Type& t = make(TypeKind::function, id);
      t.prototyped = true;
      auto ret = build_btf(b->type, depth + 1);
      if (!ret) return ret.error();
      t.target = *ret;
      const struct btf_param* p = btf_params(b);
      for (uint16_t i = 0; i < btf_vlen(b); ++i) {
        if (p[i].type == 0) {  // the last, nameless and typeless: "..."
          t.variadic = true;
          continue;
        }
        auto param = build_btf(p[i].type, depth + 1);
        if (!param) return param.error();
        t.parameters.push_back(*param);
      }
      return &t;
    }
    case BTF_KIND_FUNC: {
      auto proto = build_btf(b->type, depth + 1);
      if (!proto) return proto;
      Type& t = make(TypeKind::function, id);
      t = **proto;
      t.die = {this, id};
      t.name = name;
      return &t;
    }
    case BTF_KIND_VAR: return build_btf(b->type, depth + 1);
    default:
      return make_error(path() + ": BTF type " + std::to_string(id) + " (kind " + std::to_string(btf_kind(b)) + ") is not a type");
  }
}

// A struct or union; a forward declaration resolves to the definition of the same name.
Result<const Type*> DebugInfo::build_btf_aggregate(uint32_t id, const btf_type* b, int depth) {
  std::string name(btf_->name(b->name_off));
  bool is_union = btf_is_union(b) || (btf_is_fwd(b) && btf_kflag(b));
  if (btf_is_fwd(b) && !name.empty()) {
    auto def = btf_->find(is_union ? NameKind::union_type : NameKind::structure, name);
    if (def && *def != id) {
      auto resolved = build_btf(*def, depth + 1);
      if (resolved) by_die_[id] = *resolved;
      return resolved;
    }
  }
  Type& t = make(is_union ? TypeKind::union_type : TypeKind::structure, id);
  t.name = std::move(name);
  t.incomplete = btf_is_fwd(b);
  t.size = t.incomplete ? 0 : b->size;
  return &t;
}

void DebugInfo::load_btf_members(const Type* t) {
  t->members_loaded = true;
  const btf_type* b = t->incomplete ? nullptr : btf_->type(static_cast<uint32_t>(t->die.offset));
  if (!b || !(btf_is_struct(b) || btf_is_union(b))) return;
  const struct btf_member* m = btf_members(b);
  for (uint16_t i = 0; i < btf_vlen(b); ++i) {
    Member out;
    out.name = btf_->name(m[i].name_off);
    auto type = build_btf(m[i].type, 1);
    out.type = type ? *type : &void_;
    uint64_t bit_offset = btf_member_bit_offset(b, i);
    uint32_t bit_size = btf_member_bitfield_size(b, i);
    // Without the kind flag, a bit field's width is in its int type's own encoding.
    const btf_type* member_type = btf_->type(m[i].type);
    if (!bit_size && !btf_kflag(b) && member_type && btf_is_int(member_type) &&
        btf_int_bits(member_type) != member_type->size * 8) {
      bit_size = btf_int_bits(member_type);
      bit_offset += btf_int_offset(member_type);
    }
    out.offset = bit_offset / 8;
    if (bit_size) {
      out.bit_size = bit_size;
      out.bit_offset = bit_offset;
    }
    t->members.push_back(std::move(out));
  }
}

Result<Variable> DebugInfo::find_btf_variable(std::string_view name) {
  auto id = btf_->find(NameKind::variable, name);
  if (!id) id = btf_->find(NameKind::function, name);
  if (!id) {
    return make_error("no type for '" + std::string(name) + "' in " + path() +
                      " (BTF types functions and per-CPU variables only)");
  }
  auto type = build_btf(*id, 0);
  if (!type) return type.error();
  return Variable{std::string(name), *type, {this, *id}, std::nullopt};
}

}  // namespace coroner
