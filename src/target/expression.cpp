#include "coroner/target/expression.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>

#include "coroner/format.hpp"

namespace coroner {

namespace {

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool all_hex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

class Evaluator {
 public:
  Evaluator(TypedMemory& o, std::string_view text) : o_(o), d_(o.debug()), text_(text) {}

  Result<Value> run() {
    auto v = additive();
    if (!v) return v;
    skip_space();
    if (pos_ < text_.size()) return fail("unexpected '" + std::string(text_.substr(pos_)) + "'");
    return v;
  }

 private:
  Error fail(const std::string& what) const {
    return make_error("expression '" + std::string(text_) + "' at column " + std::to_string(pos_ + 1) + ": " + what);
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool eat(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  std::string_view identifier() {
    skip_space();
    size_t start = pos_;
    if (pos_ < text_.size() && ident_start(text_[pos_])) {
      while (pos_ < text_.size() && ident_char(text_[pos_])) ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }

  const Type* unsigned_long() { return d_.base_type("unsigned long"); }

  Result<Value> additive() {
    auto lhs = unary();
    if (!lhs) return lhs;
    for (;;) {
      int sign = eat("+") ? 1 : eat("-") ? -1 : 0;
      if (!sign) return lhs;
      auto rhs = unary();
      if (!rhs) return rhs;
      auto a = o_.integer(*lhs);
      if (!a) return a.error();
      auto b = o_.integer(*rhs);
      if (!b) return b.error();
      const Type* t = strip_typedefs(lhs->type);
      uint64_t scale = 1;
      if (t && t->kind == TypeKind::pointer) {
        const Type* target = strip_typedefs(t->target);
        scale = target && target->size ? target->size : 1;  // void * steps by bytes, as GCC does
      }
      lhs = o_.rvalue(t && t->kind == TypeKind::pointer ? lhs->type : unsigned_long(),
                      *a + static_cast<uint64_t>(sign) * *b * scale);
    }
  }

  Result<Value> unary() {
    if (eat("*")) {
      auto v = unary();
      if (!v) return v;
      return dereference(*v);
    }
    if (eat("&")) {
      auto v = unary();
      if (!v) return v;
      if (!v->address || v->bit_size) return fail("cannot take the address of a value that is not in memory");
      return o_.rvalue(d_.pointer_to(v->type), *v->address);
    }
    if (eat("-")) {
      auto v = unary();
      if (!v) return v;
      auto n = o_.integer(*v);
      if (!n) return n.error();
      return o_.rvalue(v->type, 0 - *n);
    }
    size_t save = pos_;
    if (eat("(")) {
      if (auto type = try_type_name(")")) {
        auto v = unary();
        if (!v) return v;
        return cast(*v, type);
      }
      pos_ = save;
    }
    return postfix();
  }

  // At "(" in "(struct inode *)x": the type, consuming through `close`; nullptr (and nothing
  // consumed beyond what the caller restores) when the text is not a type.
  const Type* try_type_name(std::string_view close) {
    skip_space();
    size_t start = pos_;
    int depth = 0;
    size_t end = start;
    while (end < text_.size()) {
      char c = text_[end];
      if (c == '(') ++depth;
      if (depth == 0 && text_.substr(end, close.size()) == close) break;
      if (c == ')') --depth;
      ++end;
    }
    if (end >= text_.size()) return nullptr;
    std::string_view spelling = text_.substr(start, end - start);
    std::string_view first = spelling.substr(0, spelling.find_first_of(" *["));
    bool keyword = first == "struct" || first == "union" || first == "enum" || first == "const" ||
                   first == "volatile" || first == "unsigned" || first == "signed";
    bool is_variable = d_.has_name(NameKind::variable, first);
    if (!keyword && (is_variable || !d_.has_name(NameKind::typedef_name, first)) &&
        !d_.has_name(NameKind::base, first)) {
      return nullptr;
    }
    auto type = d_.find_type(spelling);
    if (!type) return nullptr;
    pos_ = end + close.size();
    return *type;
  }

  Result<Value> cast(const Value& v, const Type* to) {
    const Type* target = strip_typedefs(to);
    if (target && (target->kind == TypeKind::structure || target->kind == TypeKind::union_type ||
                   target->kind == TypeKind::array)) {
      // (struct inode)0xffff...: the object at that address, as crash's `struct inode ADDR`.
      auto address = o_.integer(v);
      if (!address) return address.error();
      return o_.lvalue(to, *address);
    }
    auto n = o_.integer(v);
    if (!n) return n.error();
    return o_.rvalue(to, *n);
  }

  Result<Value> dereference(const Value& v) {
    const Type* t = strip_typedefs(v.type);
    if (t && t->kind == TypeKind::array) return o_.lvalue(t->target, v.address.value_or(0));
    if (!t || t->kind != TypeKind::pointer) return fail("cannot dereference a " + type_name(v.type));
    auto address = o_.integer(v);
    if (!address) return address.error();
    const Type* target = strip_typedefs(t->target);
    if (!target || target->kind == TypeKind::void_type) return fail("cannot dereference a void pointer; cast it first");
    return o_.lvalue(t->target, *address);
  }

  Result<Value> postfix() {
    auto v = primary();
    if (!v) return v;
    for (;;) {
      if (eat("->") || eat(".")) {
        auto name = identifier();
        if (name.empty()) return fail("a member name must follow '.' or '->'");
        v = member(*v, name);
      } else if (eat("[")) {
        auto index = additive();
        if (!index) return index;
        if (!eat("]")) return fail("missing ']'");
        auto i = o_.integer(*index);
        if (!i) return i.error();
        v = element(*v, *i);
      } else {
        return v;
      }
      if (!v) return v;
    }
  }

  Result<Value> member(Value v, std::string_view name) {
    const Type* t = strip_typedefs(v.type);
    if (t && t->kind == TypeKind::pointer) {
      auto d = dereference(v);
      if (!d) return d;
      v = *d;
      t = strip_typedefs(v.type);
    }
    if (t && t->kind == TypeKind::void_type && d_.btf()) {
      // A symbol BTF gives no type (BTF types only per-CPU variables): the user knows it, and casts.
      return fail("'" + std::string(name) + "': the object has no type in " + d_.path() +
                  ", which types only functions and per-CPU variables; cast its address: ((struct T *)&NAME)->" +
                  std::string(name));
    }
    if (!t || (t->kind != TypeKind::structure && t->kind != TypeKind::union_type)) {
      return fail("'" + std::string(name) + "': a " + type_name(v.type) + " has no members");
    }
    auto m = d_.find_member(t, name);
    if (!m) return fail(type_name(v.type) + " has no member '" + std::string(name) + "'");
    Value out = member_value(*m, v.address);
    if (!v.address) {
      uint64_t size = size_of(m->type);
      if (m->offset + size > v.bytes.size() && !m->is_bit_field()) return fail("member outside the value");
      out.bytes.assign(v.bytes.begin() + static_cast<long>(std::min<uint64_t>(m->offset, v.bytes.size())),
                       v.bytes.begin() + static_cast<long>(std::min<uint64_t>(m->offset + size, v.bytes.size())));
    }
    return out;
  }

  Result<Value> element(const Value& v, uint64_t i) {
    const Type* t = strip_typedefs(v.type);
    if (t && t->kind == TypeKind::array && v.address) {
      uint64_t size = size_of(t->target);
      return o_.lvalue(t->target, *v.address + i * size);
    }
    if (t && t->kind == TypeKind::pointer) {
      auto base = o_.integer(v);
      if (!base) return base.error();
      uint64_t size = size_of(t->target);
      return o_.lvalue(t->target, *base + i * (size ? size : 1));
    }
    return fail("cannot index a " + type_name(v.type));
  }

  Result<Value> primary() {
    skip_space();
    if (eat("(")) {
      auto v = additive();
      if (!v) return v;
      if (!eat(")")) return fail("missing ')'");
      return v;
    }
    if (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) return number();
    auto name = identifier();
    if (name.empty()) return fail(pos_ < text_.size() ? "unexpected '" + std::string(1, text_[pos_]) + "'" : "expression ends early");
    if (name == "container_of") return container_of();
    if (auto var = o_.variable(name)) return var;
    if (auto e = d_.find_enumerator(name)) return o_.rvalue(e->type, e->enumerator.value);
    if (name.size() >= 8 && all_hex(name)) return o_.rvalue(unsigned_long(), std::strtoull(std::string(name).c_str(), nullptr, 16));
    return o_.variable(name).error();
  }

  Result<Value> number() {
    size_t start = pos_;
    while (pos_ < text_.size() && ident_char(text_[pos_])) ++pos_;
    std::string digits(text_.substr(start, pos_ - start));
    char* end = nullptr;
    errno = 0;
    uint64_t n = std::strtoull(digits.c_str(), &end, 0);
    if (*end || errno) {
      // crash users write addresses as bare hex: ffff8b87012148c0
      n = std::strtoull(digits.c_str(), &end, 16);
      if (*end || errno) return fail("'" + digits + "' is not a number");
    }
    return o_.rvalue(unsigned_long(), n);
  }

  Result<Value> container_of() {
    if (!eat("(")) return fail("container_of needs (pointer, type, member)");
    auto ptr = additive();
    if (!ptr) return ptr;
    if (!eat(",")) return fail("container_of: missing ',' after the pointer");
    skip_space();
    const Type* type = try_type_name(",");
    if (!type) return fail("container_of: the second argument must be a type (struct task_struct)");
    std::string path;
    skip_space();
    while (pos_ < text_.size() && text_[pos_] != ')') path += text_[pos_++];
    if (!eat(")")) return fail("container_of: missing ')'");
    auto member = d_.find_member_path(type, path);
    if (!member) return fail("container_of: " + member.error().message);
    auto address = o_.integer(*ptr);
    if (!address) return address.error();
    return o_.rvalue(d_.pointer_to(type), *address - member->offset);
  }

  TypedMemory& o_;
  DebugInfo& d_;
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<Value> evaluate(TypedMemory& objects, std::string_view expression) {
  return Evaluator(objects, expression).run();
}

Result<uint64_t> evaluate_integer(TypedMemory& objects, std::string_view expression) {
  auto v = evaluate(objects, expression);
  if (!v) return v.error();
  return objects.integer(*v);
}

Result<std::string> value_text(TypedMemory& objects, const Value& value, size_t limit) {
  const Type* t = strip_typedefs(value.type);
  if (t && t->kind == TypeKind::pointer) {
    auto p = objects.integer(value);
    if (!p) return p.error();
    return objects.kernel().read_c_string(*p, limit);
  }
  auto bytes = objects.bytes(value);
  if (!bytes) return bytes.error();
  std::string s(bytes->begin(), bytes->end());
  s = s.substr(0, s.find('\0'));
  return s.size() > limit ? s.substr(0, limit) : s;
}

Result<std::string> evaluate_text(TypedMemory& objects, std::string_view expression, size_t limit) {
  auto v = evaluate(objects, expression);
  if (!v) return v.error();
  return value_text(objects, *v, limit);
}

Result<uint64_t> evaluate_address(TypedMemory& objects, std::string_view expression) {
  auto v = evaluate(objects, expression);
  if (!v) return v.error();
  const Type* t = strip_typedefs(v->type);
  bool scalar = t && (t->kind == TypeKind::pointer || t->kind == TypeKind::base || t->kind == TypeKind::enumeration);
  if (v->address && !scalar) return *v->address;  // a struct or array: where it is
  return objects.integer(*v);                      // a pointer or number: what it says
}

}  // namespace coroner
