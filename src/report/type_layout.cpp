#include "coroner/report/type_layout.hpp"

namespace coroner::report {

namespace {

// The anonymous struct or union a declarator ends in (`union {...} d_u`, `struct {...} x[4]`),
// which crash and gdb print inline; nullptr for everything else.
const Type* anonymous_leaf(const Type* t) {
  for (int guard = 0; t && guard < 32; ++guard) {
    if (t->kind == TypeKind::structure || t->kind == TypeKind::union_type) return t->name.empty() ? t : nullptr;
    if (t->kind != TypeKind::pointer && t->kind != TypeKind::array && t->kind != TypeKind::qualified) return nullptr;
    t = t->target;
  }
  return nullptr;
}

class LayoutPrinter {
 public:
  LayoutPrinter(DebugInfo& debug, const Type* top) : debug_(debug) {
    width_ = std::to_string(top->size).size() + 4;  // as crash: room for "[SIZE]" plus two
  }

  // Offsets are from the start of the outermost struct, also inside named anonymous aggregates
  // (`union {...} d_u`), where crash shows none because it looks members up by name.
  void body(const Type* t, uint64_t base, int level, int guard = 0) {
    if (guard > 32) return line(std::nullopt, level, "/* nested too deep */");
    for (const Member& m : debug_.members(t)) {
      uint64_t at = base + m.offset;
      if (const Type* leaf = anonymous_leaf(m.type)) {
        line(std::nullopt, level, leaf->kind == TypeKind::union_type ? "union {" : "struct {");
        body(leaf, at, level + 1, guard + 1);
        if (m.name.empty()) {
          line(std::nullopt, level, "};");
        } else {
          std::string decl = declaration(m.type, m.name);
          auto brace = decl.find("{...}");
          line(at, level, "} " + (brace == std::string::npos ? m.name : decl.substr(brace + 6)) + ";");
        }
        continue;
      }
      std::string text = declaration(m.type, m.name);
      if (m.is_bit_field()) text += " : " + std::to_string(m.bit_size);
      line(at, level, text + ";");
    }
  }

  void line(std::optional<uint64_t> offset, int level, const std::string& text) {
    std::string label = offset ? "[" + std::to_string(*offset) + "]" : "";
    if (label.size() < width_) out_ += std::string(width_ - label.size(), ' ');
    out_ += label + " " + std::string(4 * (level - 1), ' ') + text + "\n";
  }

  std::string& out() { return out_; }

 private:
  DebugInfo& debug_;
  size_t width_;
  std::string out_;
};

nlohmann::ordered_json members_json(DebugInfo& debug, const Type* t, uint64_t base, int guard) {
  auto list = nlohmann::ordered_json::array();
  if (guard > 32) return list;
  for (const Member& m : debug.members(t)) {
    nlohmann::ordered_json j;
    j["name"] = m.name;
    j["type"] = type_name(m.type);
    j["offset"] = base + m.offset;
    j["size"] = size_of(m.type);
    if (m.is_bit_field()) {
      j["bit_offset"] = base * 8 + m.bit_offset;
      j["bit_size"] = m.bit_size;
    }
    if (const Type* leaf = anonymous_leaf(m.type)) j["members"] = members_json(debug, leaf, base + m.offset, guard + 1);
    list.push_back(std::move(j));
  }
  return list;
}

}  // namespace

std::string layout_text(DebugInfo& debug, const Type* type) {
  const Type* t = strip_typedefs(type);
  if (!t || (t->kind != TypeKind::structure && t->kind != TypeKind::union_type)) {
    return type_name(type) + "\nSIZE: " + std::to_string(t ? t->size : 0) + "\n";
  }
  LayoutPrinter p(debug, t);
  std::string header = (t->kind == TypeKind::union_type ? "union " : "struct ") + (t->name.empty() ? "{...}" : t->name);
  p.out() = header + " {\n";
  p.body(t, 0, 1);
  return p.out() + "}\nSIZE: " + std::to_string(t->size) + "\n";
}

nlohmann::ordered_json layout_json(DebugInfo& debug, const Type* type) {
  const Type* t = strip_typedefs(type);
  nlohmann::ordered_json j;
  j["schema"] = "coroner.layout";
  j["type"] = type_name(type);
  j["size"] = t ? t->size : 0;
  if (t && t->incomplete) j["incomplete"] = true;
  j["members"] = members_json(debug, t, 0, 0);
  return j;
}

}  // namespace coroner::report
