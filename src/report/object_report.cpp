#include "coroner/report/object_report.hpp"

#include <cstring>

#include "coroner/format.hpp"

namespace coroner::report {

namespace {

// The bytes a value lives in: one read of the whole top-level object, then every member is a
// slice of it, so a task_struct costs three page reads, not three hundred.
struct Frame {
  const ObjectBytes* object = nullptr;
  uint64_t offset = 0;  // of this value in object->data
};

class Formatter {
 public:
  Formatter(TypedMemory& o, const ValueFormat& f) : o_(o), f_(f) {}

  // The value's bytes (a slice of the object, or the rvalue's own), or an error to show in place.
  Result<std::vector<uint8_t>> bytes_of(const Type* t, const Frame& frame, const Value& v) {
    uint64_t size = v.bit_size ? (v.bit_offset + v.bit_size + 7) / 8 : t ? t->size : 0;
    if (!frame.object) return v.bytes;
    if (!frame.object->readable(frame.offset, size)) {
      return make_error(frame.object->why_missing.empty() ? "unreadable" : frame.object->why_missing);
    }
    return std::vector<uint8_t>(frame.object->data.begin() + static_cast<long>(frame.offset),
                                frame.object->data.begin() + static_cast<long>(frame.offset + size));
  }

  uint64_t to_integer(const std::vector<uint8_t>& b, const Type* type) {
    size_t n = std::min<size_t>(b.size(), 8);
    return extract_bits(b.data(), n, 0, static_cast<uint32_t>(n * 8), is_signed(type));
  }

  std::string scalar_text(const Type* declared, uint64_t bits) {
    const Type* t = strip_typedefs(declared);
    switch (t->kind) {
      case TypeKind::pointer: return pointer_text(t, bits);
      case TypeKind::enumeration:
        for (const auto& e : t->enumerators) {
          uint64_t mask = t->size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (t->size * 8)) - 1;
          if ((e.value & mask) == (bits & mask)) return e.name;
        }
        return std::to_string(static_cast<int64_t>(bits));
      case TypeKind::base:
        if (t->encoding == BaseEncoding::boolean) return bits ? "true" : "false";
        if (t->encoding == BaseEncoding::floating) return float_text(t, bits);
        if (is_signed(t)) return std::to_string(static_cast<int64_t>(bits));
        return std::to_string(bits);
      default: return hex(bits);
    }
  }

  static std::string float_text(const Type* t, uint64_t bits) {
    char buf[64];
    if (t->size == 4) {
      float f;
      uint32_t b32 = static_cast<uint32_t>(bits);
      std::memcpy(&f, &b32, 4);
      std::snprintf(buf, sizeof buf, "%g", static_cast<double>(f));
    } else {
      double d;
      std::memcpy(&d, &bits, 8);
      std::snprintf(buf, sizeof buf, "%g", d);
    }
    return buf;
  }

  std::string pointer_text(const Type* t, uint64_t address) {
    std::string s = hex(address);
    if (!address) return s;
    if (auto sym = symbol_of(address)) s += " <" + *sym + ">";
    if (is_char(t->target)) {
      auto str = o_.kernel().read_c_string(address, 256);
      if (str) s += " \"" + escape_bytes(*str) + "\"";
    }
    return s;
  }

  std::optional<std::string> symbol_of(uint64_t address) {
    const SymbolTable* syms = o_.kernel().symbols();
    if (!syms) return std::nullopt;
    auto hit = syms->lookup(address);
    if (!hit || !hit->symbol) return std::nullopt;
    return std::string(hit->symbol->name) + (hit->offset ? "+" + std::to_string(hit->offset) : "");
  }

  // Up to the first NUL, unless poison follows it: then up to the poison's first bytes, NULs as
  // \0, the way seed 004's engineer read d_iname ("10\000ZZZZ...").
  std::string char_array_text(const std::vector<uint8_t>& b) {
    size_t n = 0;
    while (n < b.size() && b[n]) ++n;
    auto run = poison_run(b);
    if (!run) return "\"" + escape_bytes({reinterpret_cast<const char*>(b.data()), n}) + "\"";
    std::string s = "\"";
    size_t shown = run->offset + kPoisonRunInText;
    for (size_t i = 0; i < shown; ++i) {
      s += b[i] ? escape_bytes({reinterpret_cast<const char*>(&b[i]), 1}) : "\\0";
    }
    s += shown < b.size() ? "...\"" : "\"";
    return s + "  <- " + std::to_string(run->length) + " bytes of " + run->pattern->name + " from [" +
           std::to_string(run->offset) + "]: " + run->pattern->meaning;
  }

  std::optional<PoisonRun> poison_run(const std::vector<uint8_t>& b) const {
    if (!f_.poison) return std::nullopt;
    return f_.poison->longest_byte_run(b, f_.os, kPoisonRunInText);
  }

  std::optional<PoisonMatch> poison_of(const Type* declared, uint64_t bits) const {
    const Type* t = strip_typedefs(declared);
    if (!f_.poison || !t || (t->kind != TypeKind::base && t->kind != TypeKind::pointer)) return std::nullopt;
    if (t->kind == TypeKind::base && t->encoding == BaseEncoding::floating) return std::nullopt;
    return f_.poison->match_scalar(bits, static_cast<unsigned>(t->size), f_.os);
  }

  static std::string poison_note(const PoisonMatch& m) {
    return "  <- " + m.pattern->name + (m.delta ? " + " + hex(m.delta) : "") + ": " + m.pattern->meaning;
  }

  // --- text ---
  void text(const Value& v, const Type* declared, const Frame& frame, int level, std::string& out) {
    const Type* t = strip_typedefs(declared);
    if (!t || t->kind == TypeKind::void_type) { out += "<void>"; return; }
    if (v.bit_size) {
      auto b = bytes_of(strip_typedefs(v.type), frame, v);
      if (!b) { out += "<unreadable: " + b.error().message + ">"; return; }
      out += scalar_text(declared, extract_bits(b->data(), b->size(), v.bit_offset, v.bit_size, is_signed(declared)));
      return;
    }
    switch (t->kind) {
      case TypeKind::structure: case TypeKind::union_type: return aggregate_text(t, frame, level, out);
      case TypeKind::array: return array_text(t, frame, v, level, out);
      case TypeKind::function: out += "<function>"; return;
      default: break;
    }
    auto b = bytes_of(t, frame, v);
    if (!b) { out += "<unreadable: " + b.error().message + ">"; return; }
    uint64_t bits = to_integer(*b, declared);
    out += scalar_text(declared, bits);
    if (auto poison = poison_of(declared, bits)) out += poison_note(*poison);
  }

  void aggregate_text(const Type* t, const Frame& frame, int level, std::string& out) {
    if (t->incomplete) { out += "<incomplete type " + type_name(t) + ">"; return; }
    if (level >= f_.depth) { out += "{...}"; return; }
    out += "{\n";
    const auto& members = o_.debug().members(t);
    std::string indent(2 * (level + 1), ' ');
    for (size_t i = 0; i < members.size(); ++i) {
      const Member& m = members[i];
      out += indent + (m.name.empty() ? "" : m.name + " = ");
      text(member_value(m, std::nullopt), m.type, Frame{frame.object, frame.offset + m.offset}, level + 1, out);
      out += i + 1 < members.size() ? ",\n" : "\n";
    }
    out += std::string(2 * level, ' ') + "}";
  }

  void array_text(const Type* t, const Frame& frame, const Value& v, int level, std::string& out) {
    const Type* element = strip_typedefs(t->target);
    uint64_t count = t->count.value_or(0);
    if (is_char(element)) {
      auto b = bytes_of(t, frame, v);
      out += b ? char_array_text(*b) : "<unreadable: " + b.error().message + ">";
      return;
    }
    out += "{";
    uint64_t shown = std::min<uint64_t>(count, f_.max_elements);
    for (uint64_t i = 0; i < shown; ++i) {
      if (i) out += ", ";
      Value ev;
      ev.type = t->target;
      text(ev, t->target, Frame{frame.object, frame.offset + i * element->size}, level, out);
    }
    if (shown < count) out += ", ...";
    out += "}";
  }

  // --- JSON ---
  nlohmann::ordered_json json(const Value& v, const Type* declared, const Frame& frame, int level) {
    nlohmann::ordered_json j;
    const Type* t = strip_typedefs(declared);
    j["type"] = type_name(declared);
    if (frame.object) j["address"] = hex(frame.object->address + frame.offset);
    if (!t || t->kind == TypeKind::void_type || t->kind == TypeKind::function) return j;
    if (!v.bit_size && (t->kind == TypeKind::structure || t->kind == TypeKind::union_type)) {
      if (t->incomplete || level >= f_.depth) {
        j["expanded"] = false;
        return j;
      }
      auto members = nlohmann::ordered_json::array();
      for (const Member& m : o_.debug().members(t)) {
        auto mj = json(member_value(m, std::nullopt), m.type, Frame{frame.object, frame.offset + m.offset}, level + 1);
        nlohmann::ordered_json named;
        named["name"] = m.name;
        named["offset"] = m.offset;
        for (auto& [k, val] : mj.items()) named[k] = val;
        members.push_back(std::move(named));
      }
      j["members"] = std::move(members);
      return j;
    }
    if (!v.bit_size && t->kind == TypeKind::array) {
      const Type* element = strip_typedefs(t->target);
      if (is_char(element)) {
        auto b = bytes_of(t, frame, v);
        if (!b) { j["error"] = b.error().message; return j; }
        size_t n = 0;
        while (n < b->size() && (*b)[n]) ++n;
        j["string"] = sanitize_utf8({reinterpret_cast<const char*>(b->data()), n});
        if (auto run = poison_run(*b)) {
          j["poison"] = {{"pattern", run->pattern->name}, {"offset", run->offset}, {"length", run->length},
                         {"state", run->pattern->state}, {"meaning", run->pattern->meaning}};
        }
        return j;
      }
      auto elements = nlohmann::ordered_json::array();
      uint64_t shown = std::min<uint64_t>(t->count.value_or(0), f_.max_elements);
      for (uint64_t i = 0; i < shown; ++i) {
        Value ev;
        ev.type = t->target;
        elements.push_back(json(ev, t->target, Frame{frame.object, frame.offset + i * element->size}, level));
      }
      j["elements"] = std::move(elements);
      if (shown < t->count.value_or(0)) j["truncated"] = true;
      return j;
    }
    auto b = bytes_of(v.bit_size ? strip_typedefs(v.type) : t, frame, v);
    if (!b) { j["error"] = b.error().message; return j; }
    uint64_t bits = v.bit_size ? extract_bits(b->data(), b->size(), v.bit_offset, v.bit_size, is_signed(declared))
                               : to_integer(*b, declared);
    if (t->kind == TypeKind::pointer) {
      j["value"] = hex(bits);
      if (auto sym = symbol_of(bits)) j["symbol"] = *sym;
    } else if (t->kind == TypeKind::enumeration) {
      j["value"] = is_signed(t) ? nlohmann::ordered_json(static_cast<int64_t>(bits)) : nlohmann::ordered_json(bits);
      std::string name = scalar_text(declared, bits);
      if (!name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) && name[0] != '-') j["enumerator"] = name;
    } else if (t->kind == TypeKind::base && t->encoding == BaseEncoding::boolean) {
      j["value"] = bits != 0;
    } else if (t->kind == TypeKind::base && t->encoding == BaseEncoding::floating) {
      j["value"] = scalar_text(declared, bits);
    } else if (is_signed(t)) {
      j["value"] = static_cast<int64_t>(bits);
    } else {
      j["value"] = bits;
    }
    if (!v.bit_size) {
      if (auto poison = poison_of(declared, bits)) {
        j["poison"] = {{"pattern", poison->pattern->name}, {"delta", poison->delta}, {"state", poison->pattern->state},
                       {"meaning", poison->pattern->meaning}};
      }
    }
    return j;
  }

  TypedMemory& o_;
  const ValueFormat& f_;
};

// Lvalues are read once, whole; bit fields read their containing bytes.
std::optional<ObjectBytes> read_whole(TypedMemory& objects, const Value& v) {
  if (!v.address) return std::nullopt;
  uint64_t size = v.bit_size ? (v.bit_offset + v.bit_size + 7) / 8 : size_of(v.type);
  return objects.read_object(*v.address, std::min<uint64_t>(size, 64u << 20));
}

}  // namespace

std::string value_text(TypedMemory& objects, const Value& value, const ValueFormat& format) {
  Formatter f(objects, format);
  auto whole = read_whole(objects, value);
  std::string out;
  f.text(value, value.type, Frame{whole ? &*whole : nullptr, 0}, 0, out);
  return out;
}

nlohmann::ordered_json value_json(TypedMemory& objects, const Value& value, const ValueFormat& format) {
  Formatter f(objects, format);
  auto whole = read_whole(objects, value);
  return f.json(value, value.type, Frame{whole ? &*whole : nullptr, 0}, 0);
}

}  // namespace coroner::report
