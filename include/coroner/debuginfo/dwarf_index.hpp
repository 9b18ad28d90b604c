#pragma once
// Names of the kernel's types, variables, functions and enumerators, mapped to their DIEs in
// .debug_info. Built by walking the raw DIEs of every unit in parallel (the top level only, with
// DW_AT_sibling jumps over bodies); types themselves are built from the DIEs only when asked for.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/debuginfo/dwarf_sections.hpp"

namespace coroner {

enum class NameKind : uint8_t { structure, union_type, enumeration, typedef_name, base, variable, function, enumerator };

struct DwarfIndexStats {
  size_t units = 0;
  size_t dies_seen = 0;     // DIEs decoded while indexing (bodies skipped by DW_AT_sibling are not)
  size_t names = 0;         // (kind, name) entries, summed over the per-thread tables
  size_t table_bytes = 0;   // memory the index holds
  unsigned threads = 1;
};

class DwarfIndex {
 public:
  // `threads` 0 means one per core. Problems (a malformed unit) are kept, not fatal: the rest is indexed.
  static DwarfIndex build(const DwarfSections& sections, unsigned threads = 0);

  struct Entry {
    uint64_t die = 0;        // for an enumerator: the DIE of its enumeration type
    bool declaration = false;
  };
  // The definition at the lowest .debug_info offset; a declaration only when no unit defines the name.
  std::optional<Entry> find(NameKind kind, std::string_view name) const;
  const DwarfIndexStats& stats() const { return stats_; }
  const std::vector<std::string>& problems() const { return problems_; }

  struct Slot {
    uint64_t hash = 0;  // 0: empty
    const char* name = nullptr;
    uint32_t length = 0;
    NameKind kind{};
    bool declaration = false;
    uint64_t die = 0;
  };

 private:
  std::vector<std::vector<Slot>> tables_;  // one open-addressing table per indexing thread
  DwarfIndexStats stats_;
  std::vector<std::string> problems_;
};

}  // namespace coroner
