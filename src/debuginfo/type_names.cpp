#include <map>

#include "coroner/debuginfo/types.hpp"

namespace coroner {

const Type* strip_typedefs(const Type* t) {
  for (int guard = 0; t && guard < 64 && (t->kind == TypeKind::typedef_name || t->kind == TypeKind::qualified); ++guard) {
    t = t->target;
  }
  return t;
}

uint64_t size_of(const Type* t) {
  t = strip_typedefs(t);
  return t ? t->size : 0;
}

bool is_integer_like(const Type* t) {
  t = strip_typedefs(t);
  if (!t) return false;
  if (t->kind == TypeKind::base) return t->encoding != BaseEncoding::floating && t->encoding != BaseEncoding::other;
  return t->kind == TypeKind::enumeration || t->kind == TypeKind::pointer;
}

bool is_signed(const Type* t) {
  t = strip_typedefs(t);
  if (!t) return false;
  if (t->kind == TypeKind::enumeration) {
    for (const auto& e : t->enumerators) {
      if (e.is_signed && static_cast<int64_t>(e.value) < 0) return true;
    }
    return t->target && is_signed(t->target);
  }
  return t->kind == TypeKind::base &&
         (t->encoding == BaseEncoding::signed_int || t->encoding == BaseEncoding::signed_char);
}

bool is_char(const Type* t) {
  t = strip_typedefs(t);
  return t && t->kind == TypeKind::base && t->size == 1 &&
         (t->encoding == BaseEncoding::signed_char || t->encoding == BaseEncoding::unsigned_char);
}

std::string normalised_base_name(const std::string& dwarf_name) {
  static const std::map<std::string, std::string> kGdbSpelling = {
      {"long unsigned int", "unsigned long"},         {"long int", "long"},
      {"short unsigned int", "unsigned short"},       {"short int", "short"},
      {"long long unsigned int", "unsigned long long"}, {"long long int", "long long"},
  };
  auto it = kGdbSpelling.find(dwarf_name);
  return it == kGdbSpelling.end() ? dwarf_name : it->second;
}

namespace {

constexpr int kMaxDepth = 32;  // DWARF can be cyclic or absurdly deep; names stop there

std::string leaf_name(const Type* t) {
  switch (t->kind) {
    case TypeKind::void_type: return "void";
    case TypeKind::base: return normalised_base_name(t->name);
    case TypeKind::typedef_name: return t->name;
    case TypeKind::structure: return "struct " + (t->name.empty() ? std::string("{...}") : t->name);
    case TypeKind::union_type: return "union " + (t->name.empty() ? std::string("{...}") : t->name);
    case TypeKind::enumeration: {
      if (!t->name.empty()) return "enum " + t->name;
      std::string s = "enum {";
      for (size_t i = 0; i < t->enumerators.size(); ++i) s += (i ? ", " : "") + t->enumerators[i].name;
      return s + "}";
    }
    default: return "?";
  }
}

// A run of qualifiers (DWARF nests volatile(const(int))) as C writes it: "const volatile".
struct Qualifiers {
  bool is_const = false, is_volatile = false, is_restrict = false;
  const Type* under = nullptr;  // the first non-qualifier type
};
Qualifiers collect_qualifiers(const Type* t) {
  Qualifiers q;
  for (int guard = 0; t && t->kind == TypeKind::qualified && guard < kMaxDepth; ++guard, t = t->target) {
    q.is_const |= t->is_const;
    q.is_volatile |= t->is_volatile;
    q.is_restrict |= t->is_restrict;
  }
  q.under = t;
  return q;
}
std::string words(const Qualifiers& q) {
  std::string s;
  if (q.is_const) s += "const";
  if (q.is_volatile) s += s.empty() ? "volatile" : " volatile";
  if (q.is_restrict) s += s.empty() ? "restrict" : " restrict";
  return s;
}

// How many parameters one name may spell, over all its function types. The depth bound alone is
// not enough: a function whose parameters are (pointers to) itself makes a tree of
// parameters^depth types, which a hostile BTF or DWARF file can ask for; no real C type comes near.
// Every other step follows one chain, which the depth bounds.
constexpr int kMaxParametersInAName = 256;
struct Budget {
  int left = kMaxParametersInAName;
};

std::string parameters(const Type* f, int depth, Budget& budget);

// `inner` is the declarator built so far ("*name", "name[4]"); wrap it in the type around it.
std::string render(const Type* t, std::string inner, int depth, Budget& budget) {
  if (!t) return "void" + (inner.empty() ? "" : " " + inner);
  if (depth > kMaxDepth) return "<type nested too deep>" + (inner.empty() ? "" : " " + inner);
  auto wrapped = [&] { return !inner.empty() && inner[0] == '*' ? "(" + inner + ")" : inner; };
  switch (t->kind) {
    case TypeKind::pointer: return render(t->target, "*" + inner, depth + 1, budget);
    case TypeKind::qualified: {
      Qualifiers q = collect_qualifiers(t);
      if (!q.under) return words(q) + " void" + (inner.empty() ? "" : " " + inner);
      if (q.under->kind == TypeKind::pointer) {
        return render(q.under->target, "* " + words(q) + (inner.empty() ? "" : " " + inner), depth + 1, budget);
      }
      // GCC qualifies arrays of qualified elements twice; C has no qualified arrays, so the
      // qualifier belongs to (and is already on) the element.
      if (q.under->kind == TypeKind::array) return render(q.under, inner, depth + 1, budget);
      return words(q) + " " + render(q.under, inner, depth + 1, budget);
    }
    case TypeKind::array:
      return render(t->target, wrapped() + "[" + (t->count ? std::to_string(*t->count) : "") + "]", depth + 1, budget);
    case TypeKind::function:
      return render(t->target, wrapped() + "(" + parameters(t, depth, budget) + ")", depth + 1, budget);
    default: return leaf_name(t) + (inner.empty() ? "" : " " + inner);
  }
}

std::string parameters(const Type* f, int depth, Budget& budget) {
  std::string s;
  for (size_t i = 0; i < f->parameters.size(); ++i) {
    if (--budget.left < 0) {
      s += i ? ", <type too large>" : "<type too large>";
      break;
    }
    s += (i ? ", " : "") + render(f->parameters[i], "", depth + 1, budget);
  }
  if (f->variadic) s += s.empty() ? "..." : ", ...";
  if (s.empty() && f->prototyped) s = "void";
  return s;
}

}  // namespace

std::string type_name(const Type* t) {
  Budget budget;
  return render(t, "", 0, budget);
}
std::string declaration(const Type* t, const std::string& name) {
  Budget budget;
  return render(t, name, 0, budget);
}

}  // namespace coroner
