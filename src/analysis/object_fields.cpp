#include "coroner/analysis/object_fields.hpp"

#include <cstdio>

#include "coroner/format.hpp"

namespace coroner::analysis {

using rules::FieldReader;
using rules::FieldValue;
namespace {

constexpr size_t kBytesShown = 24;

FieldValue field_value(TypedMemory& objects, const PoisonCatalog& poison, const std::string& os, const Value& v) {
  FieldValue out;
  const Type* t = strip_typedefs(v.type);
  if (t && is_integer_like(t) && t->size > 0 && t->size <= 8) {
    auto bits = objects.integer(v);
    if (!bits) return out;
    out.bits = *bits;
    out.is_signed = is_signed(t);
    out.text = out.is_signed ? std::to_string(static_cast<int64_t>(*bits)) : hex(*bits);
    if (auto m = poison.match_scalar(*bits, static_cast<unsigned>(t->size), os)) {
      out.poison = m->pattern->name;
      out.text = hex(*bits) + ", " + out.poison;  // poison reads as hex, whatever the field's type
    }
    return out;
  }
  auto bytes = objects.bytes(v);
  if (!bytes) return out;
  if (auto run = poison.longest_byte_run(*bytes, os, 4)) out.poison = run->pattern->name;
  std::string shown;
  for (size_t i = 0; i < bytes->size() && i < kBytesShown; ++i) {
    unsigned char c = (*bytes)[i];
    char esc[8];
    std::snprintf(esc, sizeof esc, c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? "%c" : "\\%03o", c);
    shown += esc;
  }
  out.text = "\"" + shown + (bytes->size() > kBytesShown ? "\"..." : "\"");
  return out;
}

}  // namespace

FieldReader object_field_reader(TypedMemory& objects, const PoisonCatalog& poison, std::string os, std::string type,
                                uint64_t address) {
  auto t = objects.debug().find_type(type);
  const Type* typed = t ? *t : nullptr;
  return [&objects, &poison, os = std::move(os), typed, address](const std::string& path) -> std::optional<FieldValue> {
    if (!typed) return std::nullopt;
    auto v = objects.field(typed, address, path);
    if (!v) return std::nullopt;
    auto f = field_value(objects, poison, os, *v);
    if (!f.bits && f.text.empty()) return std::nullopt;
    return f;
  };
}

}  // namespace coroner::analysis
