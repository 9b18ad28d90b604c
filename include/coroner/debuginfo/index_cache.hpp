#pragma once
// What coroner derives from a debug file and keeps between runs (the DWARF name index), stored
// under the file's build-id in $XDG_CACHE_HOME/coroner/index (else ~/.cache/coroner/index) and
// memory-mapped when read back.
//
// An entry is never trusted: its header names the build-id, what was derived, a fingerprint of the
// sections it was derived from and a checksum of every byte; an entry that fails any of these is
// removed and rebuilt. An entry is written to a temporary file and renamed into place, so a run
// killed mid-write or two runs writing at once leave either no entry or a whole one. The directory
// is kept under a size bound by removing the entries least recently used.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "coroner/result.hpp"

namespace coroner {

struct IndexCacheSettings {
  std::string directory;                  // where the entries are; empty: no cache
  uint64_t max_bytes = uint64_t{2} << 30;  // the directory's bound
};
// $XDG_CACHE_HOME/coroner/index, else $HOME/.cache/coroner/index; no directory without either.
IndexCacheSettings default_index_cache();

// What an entry was derived from: which file (its build-id), what (`kind`, with its format
// version) and a fingerprint of the bytes it was derived from (sizes and samples of sections).
struct IndexCacheKey {
  std::string build_id;  // hex
  std::string kind;      // "dwarf-index-1"; at most 31 characters
  std::array<uint64_t, 8> fingerprint{};
};

// A read-only mapping of a verified entry's payload; the mapping lives as long as this does.
class CachedBytes {
 public:
  CachedBytes(void* map, size_t map_size, std::span<const uint8_t> payload)
      : map_(map), map_size_(map_size), payload_(payload) {}
  ~CachedBytes();
  CachedBytes(const CachedBytes&) = delete;
  CachedBytes& operator=(const CachedBytes&) = delete;
  std::span<const uint8_t> payload() const { return payload_; }

 private:
  void* map_;
  size_t map_size_;
  std::span<const uint8_t> payload_;
};

class IndexCache {
 public:
  explicit IndexCache(IndexCacheSettings settings) : settings_(std::move(settings)) {}
  bool enabled() const { return !settings_.directory.empty(); }
  // The entry for `key`, verified; nullptr when there is none or it is not whole and exactly the
  // key's (then it is removed, and `why` says what was wrong, for a warning).
  std::shared_ptr<const CachedBytes> load(const IndexCacheKey& key, std::string* why = nullptr) const;
  // Writes `payload` as the entry for `key` (atomically), then trims the directory to its bound.
  Status store(const IndexCacheKey& key, std::span<const uint8_t> payload) const;
  // The file an entry for `key` is kept in.
  std::string path(const IndexCacheKey& key) const;

 private:
  void trim() const;
  IndexCacheSettings settings_;
};

// A 64-bit checksum of `bytes` that runs at memory speed (for verifying entries, not security).
uint64_t cache_checksum(std::span<const uint8_t> bytes);

}  // namespace coroner
