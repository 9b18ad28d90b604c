#pragma once
// The kernel's BTF (CONFIG_DEBUG_INFO_BTF: the image's .BTF section, loaded in memory between
// __start_BTF and __stop_BTF), parsed and checked by libbpf, the kernel community's own BTF
// library, and indexed by name. DebugInfo builds its types from it when there is no DWARF. BTF has
// every type of the kernel, the functions' prototypes and the per-CPU variables' types; it has no
// other variable, no line table, no frame layout.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "coroner/debuginfo/dwarf_index.hpp"
#include "coroner/result.hpp"

struct btf;
struct btf_type;

namespace coroner {

class BtfTypes {
 public:
  // `base`: the kernel's BTF, for a module's split BTF (whose ids continue the kernel's).
  static Result<std::unique_ptr<BtfTypes>> parse(std::span<const uint8_t> bytes, const BtfTypes* base = nullptr);
  ~BtfTypes();
  BtfTypes(const BtfTypes&) = delete;
  BtfTypes& operator=(const BtfTypes&) = delete;

  // The type id named so: a definition before a forward declaration, the lowest id first.
  // Enumerators give their enum's id; variables their VAR's, functions their FUNC's.
  std::optional<uint32_t> find(NameKind kind, std::string_view name) const;
  // The type at `id` (this BTF's or, for a split one, its base's); null for void and bad ids.
  const btf_type* type(uint32_t id) const;
  std::string_view name(uint32_t name_offset) const;
  uint32_t count() const;  // ids 1..count-1 are types
  uint32_t first_own() const { return first_own_; }  // a split BTF's first id; 1 otherwise
  size_t bytes() const { return size_; }
  const struct btf* handle() const { return btf_; }

 private:
  BtfTypes() = default;
  void index();
  struct btf* btf_ = nullptr;
  size_t size_ = 0;
  uint32_t first_own_ = 1;  // a split BTF's first id
  std::unordered_map<std::string_view, uint32_t> names_[8];  // by NameKind
};

}  // namespace coroner
