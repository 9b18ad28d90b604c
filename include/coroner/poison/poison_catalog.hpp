#pragma once
// The poison catalog: byte patterns that say memory was freed, never initialised, or guards an
// object, loaded from YAML data (the shipped data/poison.yaml, plus users' files). Matching is by
// the dump's OS first, then patterns for any OS.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/result.hpp"

namespace coroner {

struct PoisonPattern {
  std::string name;
  uint64_t value = 0;
  unsigned width = 1;  // 1, 4 or 8 bytes
  std::string os, allocator, state, meaning;
  uint64_t word() const;  // the pattern repeated over 8 bytes (little-endian)
};

struct PoisonMatch {
  const PoisonPattern* pattern = nullptr;
  uint64_t delta = 0;  // the value is the pattern word plus this (a member reached through poison)
};

struct PoisonRun {
  const PoisonPattern* pattern = nullptr;
  size_t offset = 0, length = 0;  // in bytes
};

class PoisonCatalog {
 public:
  // The catalog shipped in data/poison.yaml (built into the binary).
  static const PoisonCatalog& shipped();
  // A catalog file; errors name the file, line and column. `name` is what errors call it.
  static Result<PoisonCatalog> parse(std::string_view yaml, const std::string& name);
  static Result<PoisonCatalog> load(const std::string& path);
  // Adds `other`'s patterns; one of the same name replaces the earlier.
  void merge(const PoisonCatalog& other);
  const std::vector<PoisonPattern>& patterns() const { return patterns_; }
  const PoisonPattern* find(std::string_view name) const;

  // A scalar of `size` bytes made of a pattern (every byte, every 32-bit half, or the 64-bit
  // word), or, for 8-byte values, a pattern word plus less than a page: a pointer computed from
  // poison (0x6b6b6b6b6b6b6b73 is POISON_FREE + 8). Values under 4 bytes are never matched: one
  // byte of 0x6b is just 'k'.
  std::optional<PoisonMatch> match_scalar(uint64_t value, unsigned size, std::string_view os) const;
  // The longest run of at least `min_run` bytes of one byte-wide pattern in `bytes`.
  std::optional<PoisonRun> longest_byte_run(std::span<const uint8_t> bytes, std::string_view os, size_t min_run) const;
  // The patterns that apply to an OS, its own first.
  std::vector<const PoisonPattern*> for_os(std::string_view os) const;

 private:
  std::vector<PoisonPattern> patterns_;
};

}  // namespace coroner
