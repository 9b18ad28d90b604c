#pragma once
// Names of the kernel's types, variables, functions and enumerators, mapped to their DIEs in
// .debug_info. Built by walking the raw DIEs of every unit in parallel (the top level only, with
// DW_AT_sibling jumps over bodies); types themselves are built from the DIEs only when asked for.
// The built index is one flat hash table with its names, which the index cache keeps between runs
// and maps back in place of building it again.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/debuginfo/dwarf_sections.hpp"
#include "coroner/debuginfo/dwarf_units.hpp"
#include "coroner/debuginfo/index_cache.hpp"

namespace coroner {

enum class NameKind : uint8_t { structure, union_type, enumeration, typedef_name, base, variable, function, enumerator };

struct DwarfIndexStats {
  size_t units = 0;
  size_t dies_seen = 0;     // DIEs decoded while indexing (bodies skipped by DW_AT_sibling are not)
  size_t names = 0;         // (kind, name) entries, summed over the per-thread tables
  size_t table_bytes = 0;   // bytes of the table and its names
  unsigned threads = 1;     // 0: read from the cache
};

class DwarfIndex {
 public:
  DwarfIndex() = default;
  DwarfIndex(DwarfIndex&&) = default;  // the spans point into heap blocks and maps that move along
  DwarfIndex& operator=(DwarfIndex&&) = default;
  DwarfIndex(const DwarfIndex&) = delete;
  DwarfIndex& operator=(const DwarfIndex&) = delete;

  // `threads` 0 means one per core. Problems (a malformed unit) are kept, not fatal: the rest is indexed.
  static DwarfIndex build(const DwarfSections& sections, unsigned threads = 0);
  // The file's index from `cache` when it holds it, else built and stored there. What went wrong
  // with the cache (an entry rebuilt, a directory not writable) is added to the problems.
  static DwarfIndex open(const DwarfSections& sections, unsigned threads, const IndexCache& cache);
  // A built index's bytes, as a cache entry holds them (empty for one read from the cache); and an
  // index over a cache entry's bytes, whose layout is checked (one that does not hold together is
  // rejected).
  std::span<const uint8_t> payload() const { return own_payload_; }
  static Result<DwarfIndex> from_bytes(std::shared_ptr<const CachedBytes> bytes);
  // What the cache key of `sections`' index is: their build-id and a fingerprint of the sections
  // indexed. No build-id, no key.
  static std::optional<IndexCacheKey> cache_key(const DwarfSections& sections);

  struct Entry {
    uint64_t die = 0;        // for an enumerator: the DIE of its enumeration type
    bool declaration = false;
  };
  // The definition at the lowest .debug_info offset; a declaration only when no unit defines the name.
  std::optional<Entry> find(NameKind kind, std::string_view name) const;
  const DwarfIndexStats& stats() const { return stats_; }
  // The units of .debug_info in order (up to a malformed header), for finding a DIE's unit.
  const std::vector<dwarf::UnitHeader>& units() const { return units_; }
  const std::vector<std::string>& problems() const { return problems_; }

  // One slot of the flat table, as it is stored: `name` is an offset into the names.
  struct PackedSlot {
    uint64_t hash = 0;  // 0: empty
    uint64_t die = 0;
    uint32_t name = 0;
    uint32_t meta = 0;  // length (24 bits), kind (4), declaration (1)
  };

 private:
  // Points slots_, names_, units_, problems_ and stats_ at a payload's parts.
  Status view(std::span<const uint8_t> payload);

  std::span<const PackedSlot> slots_;  // power-of-two open-addressing table, linear probing
  std::string_view names_;
  std::vector<uint8_t> own_payload_;  // a built index's storage; a cached one's is `mapped_`
  std::shared_ptr<const CachedBytes> mapped_;
  std::vector<dwarf::UnitHeader> units_;
  DwarfIndexStats stats_;
  std::vector<std::string> problems_;
};

}  // namespace coroner
