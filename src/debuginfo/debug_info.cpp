#include "coroner/debuginfo/debug_info.hpp"

#include <algorithm>
#include <libdwarf/dwarf.h>

#include <cctype>

#include "coroner/format.hpp"

namespace coroner {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool take_word(std::string_view& s, std::string_view word) {
  if (s.substr(0, word.size()) != word) return false;
  if (s.size() > word.size() && (std::isalnum(static_cast<unsigned char>(s[word.size()])) || s[word.size()] == '_')) {
    return false;
  }
  s = trim(s.substr(word.size()));
  return true;
}

// C spellings of base types to the name GCC gives them in DWARF.
std::string dwarf_base_name(std::string_view c) {
  static const std::map<std::string, std::string, std::less<>> kDwarf = {
      {"unsigned long", "long unsigned int"},   {"unsigned long int", "long unsigned int"},
      {"long", "long int"},                     {"signed long", "long int"},
      {"unsigned", "unsigned int"},             {"signed", "int"},
      {"unsigned short", "short unsigned int"}, {"short", "short int"},
      {"unsigned long long", "long long unsigned int"}, {"long long", "long long int"},
      {"bool", "_Bool"},
  };
  auto it = kDwarf.find(c);
  return it == kDwarf.end() ? std::string(c) : it->second;
}

}  // namespace

Result<std::unique_ptr<DebugInfo>> DebugInfo::open(const std::string& path, unsigned threads,
                                                   const SectionPlacement& placement, const IndexCache& cache) {
  auto sections = DwarfSections::open(path, placement);
  if (!sections) return sections.error();
  return from_sections(std::move(*sections), threads, cache);
}

Result<std::unique_ptr<DebugInfo>> DebugInfo::from_sections(std::unique_ptr<DwarfSections> sections, unsigned threads,
                                                            const IndexCache& cache) {
  std::unique_ptr<DebugInfo> info(new DebugInfo());
  info->path_ = sections->path();
  info->sections_ = std::move(sections);
  info->index_ = DwarfIndex::open(*info->sections_, threads, cache);
  auto dies = DieReader::open(*info->sections_, info->index_.units());
  if (!dies) return dies.error();
  info->dies_ = std::move(*dies);
  info->libdwarf_ = std::make_unique<LibdwarfSession>(*info->sections_);
  info->void_.kind = TypeKind::void_type;
  return info;
}

std::unique_ptr<DebugInfo> DebugInfo::from_btf(std::unique_ptr<BtfTypes> btf, std::string description, DebugInfo* base) {
  std::unique_ptr<DebugInfo> info(new DebugInfo());
  info->btf_ = std::move(btf);
  info->btf_base_ = base && base->btf_ ? base : nullptr;
  info->path_ = std::move(description);
  info->void_.kind = TypeKind::void_type;
  return info;
}

bool DebugInfo::has_name(NameKind kind, std::string_view name) const {
  return btf_ ? btf_->find(kind, name).has_value() : index_.find(kind, name).has_value();
}

const std::vector<Member>& DebugInfo::members(const Type* t) {
  if (!t || (t->kind != TypeKind::structure && t->kind != TypeKind::union_type)) return no_members_;
  if (t->members_loaded) return t->members;
  if (t->die.owner && t->die.owner != this) return t->die.owner->members(t);
  if (btf_) {
    load_btf_members(t);
    return t->members;
  }
  t->members_loaded = true;
  if (t->incomplete) return t->members;
  auto children = dies_->children(t->die.offset);
  if (!children) return t->members;
  for (const auto& c : *children) {
    if (c.tag != DW_TAG_member) continue;
    Member m;
    m.name = c.name;
    auto type = referenced(c.type, 0);
    m.type = type ? *type : &void_;
    m.offset = c.member_location.value_or(0);
    if (c.bit_size) {
      m.bit_size = static_cast<uint32_t>(*c.bit_size);
      if (c.data_bit_offset) {
        m.bit_offset = *c.data_bit_offset;
      } else {
        // DWARF 2/3: bit offset from the most significant bit of a storage unit of byte_size.
        uint64_t storage = c.byte_size.value_or(size_of(m.type));
        m.bit_offset = m.offset * 8 + storage * 8 - c.bit_offset.value_or(0) - m.bit_size;
      }
      m.offset = m.bit_offset / 8;
    }
    t->members.push_back(std::move(m));
  }
  return t->members;
}

std::optional<Member> DebugInfo::find_member(const Type* t, std::string_view name) {
  // C nests anonymous structs and unions a few deep (struct page: 3). Hostile debug info can nest
  // a type in itself, or fan out at every level: the search is bounded in depth and in members seen.
  size_t budget = 1 << 16;
  return find_anonymous_member(t, name, 0, budget);
}

std::optional<Member> DebugInfo::find_anonymous_member(const Type* t, std::string_view name, int depth,
                                                       size_t& budget) {
  t = strip_typedefs(t);
  if (depth > 32) return std::nullopt;
  for (const Member& m : members(t)) {
    if (budget == 0) return std::nullopt;
    --budget;
    if (m.name == name) return m;
    if (!m.name.empty()) continue;
    if (auto inner = find_anonymous_member(m.type, name, depth + 1, budget)) {
      inner->offset += m.offset;
      inner->bit_offset += m.offset * 8;
      return inner;
    }
  }
  return std::nullopt;
}

Result<Member> DebugInfo::find_member_path(const Type* t, std::string_view path) {
  Member at{std::string(), t, 0, 0, 0};
  for (size_t from = 0;;) {
    size_t dot = path.find('.', from);
    std::string_view name = trim(path.substr(from, dot == std::string_view::npos ? std::string_view::npos : dot - from));
    // "mem[4]", "grid[1][2]": an element of an array member.
    std::vector<uint64_t> indices;
    if (size_t open = name.find('['); open != std::string_view::npos) {
      std::string_view rest = name.substr(open);
      name = trim(name.substr(0, open));
      while (!rest.empty()) {
        size_t close = rest.find(']');
        std::string digits(rest.substr(1, close == std::string_view::npos ? 0 : close - 1));
        if (rest.front() != '[' || close == std::string_view::npos || digits.empty() ||
            digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) {
          return make_error("'" + std::string(path) + "': an array index must be a number");
        }
        indices.push_back(std::stoull(digits));
        rest = trim(rest.substr(close + 1));
      }
    }
    auto m = find_member(at.type, name);
    if (!m) return make_error(type_name(at.type) + " has no member '" + std::string(name) + "'");
    m->offset += at.offset;
    m->bit_offset += at.offset * 8;
    for (uint64_t index : indices) {
      const Type* array = strip_typedefs(m->type);
      if (!array || array->kind != TypeKind::array || !array->target) {
        return make_error(type_name(at.type) + "." + std::string(name) + " is not an array");
      }
      if (array->count && index >= *array->count) {
        return make_error(type_name(at.type) + "." + std::string(name) + " has " + std::to_string(*array->count) +
                          " elements, not " + std::to_string(index + 1));
      }
      uint64_t element = size_of(array->target);
      m->type = array->target;
      m->offset += index * element;
      m->bit_offset += index * element * 8;
    }
    at = std::move(*m);
    if (dot == std::string_view::npos) return at;
    from = dot + 1;
  }
}

const Type* DebugInfo::pointer_to(const Type* t) {
  auto& p = pointers_[t];
  if (!p) {
    Type& made = make(TypeKind::pointer, 0);
    made.size = 8;
    made.target = t;
    p = &made;
  }
  return p;
}

const Type* DebugInfo::array_of(const Type* element, uint64_t count) {
  auto& a = arrays_[{element, count}];
  if (!a) {
    Type& made = make(TypeKind::array, 0);
    made.target = element;
    made.count = count;
    made.size = count * size_of(element);
    a = &made;
  }
  return a;
}

const Type* DebugInfo::base_type(std::string_view c_name) {
  if (const Type* t = find_named(NameKind::base, dwarf_base_name(c_name))) return t;
  auto it = synthetic_bases_.find(c_name);
  if (it != synthetic_bases_.end()) return it->second;
  Type& t = make(TypeKind::base, 0);
  t.name = dwarf_base_name(c_name);
  t.size = c_name == "char" || c_name == "_Bool" ? 1 : c_name == "int" || c_name == "unsigned int" ? 4 : 8;
  t.encoding = c_name.find("unsigned") != std::string_view::npos ? BaseEncoding::unsigned_int : BaseEncoding::signed_int;
  synthetic_bases_.emplace(std::string(c_name), &t);
  return &t;
}

void DebugInfo::remove_fallback(const DebugInfo* other) {
  std::erase(fallbacks_, other);
  std::erase_if(pointers_, [&](const auto& entry) { return entry.first->die.owner == other; });
  std::erase_if(arrays_, [&](const auto& entry) { return entry.first.first->die.owner == other; });
}

const Type* DebugInfo::find_named(NameKind kind, std::string_view name) {
  const Type* own = find_own(kind, name);
  if (own && !own->incomplete) return own;
  for (DebugInfo* other : fallbacks_) {
    const Type* t = other->find_own(kind, name);
    if (t && !t->incomplete) return t;
  }
  return own;
}

const Type* DebugInfo::find_own(NameKind kind, std::string_view name) {
  if (btf_) {
    auto id = btf_->find(kind, name);
    if (!id) return nullptr;
    auto t = build_btf(*id, 0);
    return t ? *t : nullptr;
  }
  auto entry = index_.find(kind, name);
  if (!entry) return nullptr;
  auto t = build(entry->die, 0);
  return t ? *t : nullptr;
}

Result<const Type*> DebugInfo::find_type(std::string_view spelling) { return parse_spelling(trim(spelling)); }

Result<const Type*> DebugInfo::parse_spelling(std::string_view s) {
  // Declarator suffixes first: trailing '*' and "[N]".
  if (!s.empty() && s.back() == '*') {
    auto inner = parse_spelling(trim(s.substr(0, s.size() - 1)));
    if (!inner) return inner;
    return pointer_to(*inner);
  }
  if (!s.empty() && s.back() == ']') {
    auto open = s.rfind('[');
    if (open == std::string_view::npos) return make_error("type '" + std::string(s) + "': unbalanced '['");
    std::string digits(trim(s.substr(open + 1, s.size() - open - 2)));
    auto inner = parse_spelling(trim(s.substr(0, open)));
    if (!inner) return inner;
    char* end = nullptr;
    uint64_t count = std::strtoull(digits.c_str(), &end, 0);
    if (digits.empty() || *end) return make_error("type '" + std::string(s) + "': array size '" + digits + "' is not a number");
    return array_of(*inner, count);
  }
  // Qualifiers do not change how an object is read or shown.
  while (take_word(s, "const") || take_word(s, "volatile")) {
  }
  auto not_found = [&](const char* what) {
    return make_error("no " + std::string(what) + " '" + std::string(s) + "' in the debug info of " + path() +
                      "; check the spelling, or that this vmlinux is the dumped kernel's");
  };
  if (take_word(s, "struct")) {
    if (const Type* t = find_named(NameKind::structure, s)) return t;
    return not_found("struct");
  }
  if (take_word(s, "union")) {
    if (const Type* t = find_named(NameKind::union_type, s)) return t;
    return not_found("union");
  }
  if (take_word(s, "enum")) {
    if (const Type* t = find_named(NameKind::enumeration, s)) return t;
    return not_found("enum");
  }
  if (s == "void") return const_cast<const Type*>(&void_);
  for (NameKind kind : {NameKind::structure, NameKind::union_type, NameKind::typedef_name, NameKind::enumeration}) {
    if (const Type* t = find_named(kind, s)) return t;
  }
  if (const Type* t = find_named(NameKind::base, dwarf_base_name(s))) return t;
  return not_found("type");
}

Result<Variable> DebugInfo::find_variable(std::string_view name) {
  auto own = find_own_variable(name);
  if (own) return own;
  for (DebugInfo* other : fallbacks_) {
    if (auto v = other->find_own_variable(name)) return v;
  }
  return own;
}

Result<Variable> DebugInfo::find_own_variable(std::string_view name) {
  if (btf_) return find_btf_variable(name);
  auto entry = index_.find(NameKind::variable, name);
  if (!entry) entry = index_.find(NameKind::function, name);
  if (!entry) {
    return make_error("no variable or function '" + std::string(name) + "' in the debug info of " + path());
  }
  auto type = build(entry->die, 0);
  if (!type) return type.error();
  Variable v{std::string(name), *type, {this, entry->die}, std::nullopt};
  if (auto facts = dies_->read(entry->die)) v.static_address = facts->static_address;
  return v;
}

std::optional<DebugInfo::MemberAt> DebugInfo::member_at(const Type* type, uint64_t offset) {
  MemberAt out;
  const Type* t = strip_typedefs(type);
  for (int depth = 0; t && depth < 8; ++depth) {
    const Member* found = nullptr;
    for (const Member& m : members(t)) {
      uint64_t size = size_of(m.type);
      if (offset >= m.offset && offset < m.offset + std::max<uint64_t>(size, 1)) found = &m;
    }
    if (!found) break;
    out.path += (out.path.empty() || found->name.empty() ? "" : ".") + found->name;
    out.type = found->type;
    offset -= found->offset;
    const Type* inner = strip_typedefs(found->type);
    if (!inner || (inner->kind != TypeKind::structure && inner->kind != TypeKind::union_type)) break;
    t = inner;
  }
  if (out.path.empty()) return std::nullopt;
  return out;
}

std::optional<EnumeratorHit> DebugInfo::find_enumerator(std::string_view name) {
  std::optional<uint64_t> die;
  if (btf_) {
    if (auto id = btf_->find(NameKind::enumerator, name)) die = *id;
  } else if (auto entry = index_.find(NameKind::enumerator, name)) {
    die = entry->die;
  }
  if (!die) {
    for (DebugInfo* other : fallbacks_) {
      if (auto hit = other->find_enumerator(name)) return hit;
    }
    return std::nullopt;
  }
  auto type = type_at(*die);
  if (!type) return std::nullopt;
  for (const auto& e : (*type)->enumerators) {
    if (e.name == name) return EnumeratorHit{*type, e};
  }
  return std::nullopt;
}

std::optional<CallFrameRule> DebugInfo::call_frame_rule(uint64_t link_address) {
  if (!dies_) return std::nullopt;
  if (!frames_) frames_ = std::make_unique<CallFrames>(*libdwarf_);
  return frames_->rule_at(link_address);
}

std::string DebugInfo::source_line(uint64_t link_address) {
  if (!dies_) return "";
  if (!lines_) lines_ = std::make_unique<LineTables>(*sections_, *dies_);
  return lines_->line_of(link_address);
}

}  // namespace coroner
