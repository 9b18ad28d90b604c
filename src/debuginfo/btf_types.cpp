#include "coroner/debuginfo/btf_types.hpp"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

namespace coroner {
namespace {

std::optional<NameKind> name_kind(const btf_type* t) {
  switch (btf_kind(t)) {
    case BTF_KIND_STRUCT: return NameKind::structure;
    case BTF_KIND_UNION: return NameKind::union_type;
    case BTF_KIND_FWD: return btf_kflag(t) ? NameKind::union_type : NameKind::structure;
    case BTF_KIND_ENUM: case BTF_KIND_ENUM64: return NameKind::enumeration;
    case BTF_KIND_TYPEDEF: return NameKind::typedef_name;
    case BTF_KIND_INT: case BTF_KIND_FLOAT: return NameKind::base;
    case BTF_KIND_VAR: return NameKind::variable;
    case BTF_KIND_FUNC: return NameKind::function;
    default: return std::nullopt;
  }
}

bool is_declaration(const btf_type* t) { return btf_kind(t) == BTF_KIND_FWD; }

// A module's split BTF. Debian 12's libbpf 1.1 declares btf__new_split() but does not export it;
// btf__parse_raw_split() reads the same bytes from a file, here an anonymous one in memory.
struct btf* parse_split(std::span<const uint8_t> bytes, struct btf* base) {
  int fd = memfd_create("coroner-btf", MFD_CLOEXEC);
  if (fd < 0) return nullptr;
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  struct btf* out = nullptr;
  if (written == bytes.size()) out = btf__parse_raw_split(("/proc/self/fd/" + std::to_string(fd)).c_str(), base);
  int saved = errno;
  ::close(fd);
  errno = saved;
  return out;
}

// libbpf copies the bytes into a malloc'd buffer and reads its types in place at hdr_len +
// type_off, which it does not check for alignment; the kernel writes both as multiples of 4.
// Misaligned, every btf_type libbpf hands back would be read unaligned (undefined behaviour).
std::optional<std::string> misaligned_types(std::span<const uint8_t> bytes) {
  btf_header h{};
  if (bytes.size() < sizeof h) return std::nullopt;  // libbpf refuses it with its own reason
  std::memcpy(&h, bytes.data(), sizeof h);
  uint32_t hdr_len = h.hdr_len, type_off = h.type_off;
  if (h.magic == __builtin_bswap16(BTF_MAGIC)) hdr_len = __builtin_bswap32(hdr_len), type_off = __builtin_bswap32(type_off);
  if ((uint64_t{hdr_len} + type_off) % 4 == 0) return std::nullopt;
  return "its types start at byte " + std::to_string(uint64_t{hdr_len} + type_off) + " (header length " +
         std::to_string(hdr_len) + " + type offset " + std::to_string(type_off) + "), not a multiple of 4";
}

}  // namespace

Result<std::unique_ptr<BtfTypes>> BtfTypes::parse(std::span<const uint8_t> bytes, const BtfTypes* base) {
  if (auto why = misaligned_types(bytes)) {
    return make_error("the BTF (" + std::to_string(bytes.size()) + " bytes) is malformed: " + *why);
  }
  std::unique_ptr<BtfTypes> out(new BtfTypes());
  errno = 0;
  struct btf* parsed = base ? parse_split(bytes, base->btf_) : btf__new(bytes.data(), static_cast<uint32_t>(bytes.size()));
  if (!parsed || libbpf_get_error(parsed)) {
    int err = parsed ? static_cast<int>(-libbpf_get_error(parsed)) : errno;
    return make_error(std::string("libbpf refuses the BTF (") + std::to_string(bytes.size()) + " bytes): " + std::strerror(err));
  }
  out->btf_ = parsed;
  out->size_ = bytes.size();
  out->first_own_ = base ? base->count() : 1;
  out->index();
  return out;
}

BtfTypes::~BtfTypes() { btf__free(btf_); }

uint32_t BtfTypes::count() const { return btf__type_cnt(btf_); }

const btf_type* BtfTypes::type(uint32_t id) const {
  if (id == 0 || id >= count()) return nullptr;
  return btf__type_by_id(btf_, id);
}

std::string_view BtfTypes::name(uint32_t name_offset) const {
  const char* s = btf__name_by_offset(btf_, name_offset);
  return s ? std::string_view(s) : std::string_view();
}

void BtfTypes::index() {
  auto add = [&](NameKind kind, std::string_view name, uint32_t id, bool declaration) {
    if (name.empty()) return;
    auto [it, inserted] = names_[static_cast<int>(kind)].emplace(name, id);
    // A definition replaces a forward declaration seen first.
    if (!inserted && !declaration && is_declaration(type(it->second))) it->second = id;
  };
  for (uint32_t id = first_own_; id < count(); ++id) {
    const btf_type* t = type(id);
    if (!t) continue;
    if (auto kind = name_kind(t)) add(*kind, name(t->name_off), id, is_declaration(t));
    if (btf_kind(t) == BTF_KIND_ENUM) {
      const struct btf_enum* e = btf_enum(t);
      for (uint16_t i = 0; i < btf_vlen(t); ++i) add(NameKind::enumerator, name(e[i].name_off), id, false);
    } else if (btf_kind(t) == BTF_KIND_ENUM64) {
      const struct btf_enum64* e = btf_enum64(t);
      for (uint16_t i = 0; i < btf_vlen(t); ++i) add(NameKind::enumerator, name(e[i].name_off), id, false);
    }
  }
}

std::optional<uint32_t> BtfTypes::find(NameKind kind, std::string_view name) const {
  const auto& names = names_[static_cast<int>(kind)];
  auto it = names.find(name);
  if (it == names.end()) return std::nullopt;
  return it->second;
}

}  // namespace coroner
