#include "coroner/os/linux/page_marks.hpp"

#include "coroner/format.hpp"

namespace coroner::linux_kernel {
namespace {

const Type* enum_type(TypedMemory& objects, const char* spelling) {
  auto t = objects.debug().find_type(spelling);
  if (!t) return nullptr;
  const Type* e = strip_typedefs(*t);
  return e && e->kind == TypeKind::enumeration ? e : nullptr;
}

const Enumerator* enumerator(const Type* e, std::string_view name) {
  if (!e) return nullptr;
  for (const Enumerator& en : e->enumerators) {
    if (en.name == name) return &en;
  }
  return nullptr;
}

}  // namespace

PageMarks PageMarks::read(TypedMemory& objects) {
  PageMarks m;
  const Type* flags = enum_type(objects, "enum pageflags");
  const Type* types = enum_type(objects, "enum pagetype");
  if (auto page = objects.debug().find_type("struct page")) {
    if (auto member = objects.debug().find_member(*page, "page_type")) m.page_type_offset_ = member->offset;
  }
  if (flags) {
    if (const Enumerator* nr = enumerator(flags, "__NR_PAGEFLAGS")) m.flag_count_ = std::min<uint64_t>(nr->value, 64);
    std::vector<bool> named(64, false);
    for (const Enumerator& en : flags->enumerators) {
      // Aliases (PG_owner_priv_1 = PG_checked = ...) share a bit: the first name is the kernel's own.
      if (!en.name.starts_with("PG_") || en.value >= m.flag_count_ || named[en.value]) continue;
      named[en.value] = true;
      m.flags_.push_back({en.name.substr(3), en.value});
    }
  }
  const Enumerator* underflow = enumerator(types, "PGTY_mapcount_underflow");
  const Enumerator* base = enumerator(types, "PAGE_TYPE_BASE");
  if (underflow) {
    m.types_scheme_ = TypeScheme::top_byte;
  } else if (base) {
    m.types_scheme_ = TypeScheme::cleared_bit;
    m.type_base_ = base->value;
  }
  const char* prefix = underflow ? "PGTY_" : "PG_";
  for (const Enumerator& en : m.types_scheme_ == TypeScheme::none ? std::vector<Enumerator>{} : types->enumerators) {
    // Below PGTY_mapcount_underflow, a top byte names a type; at or above it, it is a map count.
    if (!en.name.starts_with(prefix) || (underflow && en.value >= underflow->value)) continue;
    m.types_.push_back({en.name.substr(std::string_view(prefix).size()), en.value});
    if (m.types_.back().name == "slab") m.slab_type_ = en.value;
  }
  if (const Enumerator* bit = enumerator(flags, "PG_slab")) m.slab_flag_ = bit->value;
  return m;
}

bool PageMarks::has_type(uint32_t page_type, uint64_t value) const {
  if (types_scheme_ == TypeScheme::cleared_bit) return (page_type & (type_base_ | value)) == type_base_;
  return types_scheme_ == TypeScheme::top_byte && (page_type >> 24) == value;
}

Result<bool> PageMarks::is_slab(const Kernel& kernel, uint64_t page) const {
  if (slab_flag_) {
    auto flags = kernel.read_u64(page);
    if (!flags) return flags.error();
    return ((*flags >> *slab_flag_) & 1) != 0;
  }
  if (!slab_type_) {
    return make_error("the vmlinux's debug info has no PG_slab in enum pageflags and no slab page type in enum pagetype: "
                      "slab pages cannot be told apart");
  }
  if (!page_type_offset_) return make_error("struct page has no member page_type, where this kernel marks slab pages");
  auto word = kernel.read_u32(page + *page_type_offset_);
  if (!word) return word.error();
  return has_type(*word, *slab_type_);
}

std::optional<uint64_t> PageMarks::flag_bit(std::string_view name) const {
  for (const Named& f : flags_) {
    if (f.name == name) return f.value;
  }
  return std::nullopt;
}

std::vector<std::string> PageMarks::flag_names(uint64_t flags) const {
  std::vector<std::string> out;
  for (const Named& f : flags_) {
    if ((flags >> f.value) & 1) out.push_back(f.name);
  }
  return out;
}

std::vector<std::string> PageMarks::type_names(uint32_t page_type) const {
  std::vector<std::string> out;
  for (const Named& t : types_) {
    if (has_type(page_type, t.value)) out.push_back(t.name);
  }
  return out;
}

}  // namespace coroner::linux_kernel
