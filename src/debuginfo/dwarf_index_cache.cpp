// The DWARF name index as an index cache entry: the key it is stored under, and the choice between
// mapping a stored one and building it.
#include <algorithm>

#include "coroner/debuginfo/dwarf_index.hpp"

namespace coroner {

namespace {

constexpr const char* kCacheKind = "dwarf-index-1";  // bump when the payload's layout changes

// Sizes of the sections the index is read from and samples of those no relocation changes: a file
// with the same build-id whose debug info differs (stripped, recompressed, rewritten by dwz) gets
// its own index, and a module's is the same wherever the dump loaded it (.debug_info is relocated
// to the load addresses, so it is not sampled).
std::array<uint64_t, 8> fingerprint(const DwarfSections& sections) {
  std::array<uint64_t, 8> f{};
  const char* names[] = {".debug_info", ".debug_abbrev", ".debug_str", ".debug_line_str", ".debug_str_offsets"};
  size_t i = 0;
  for (const char* name : names) f[i++] = sections.get(name).size();
  constexpr size_t kSample = 4096;
  auto abbrev = sections.get(".debug_abbrev"), str = sections.get(".debug_str");
  f[i++] = cache_checksum(abbrev.first(std::min(abbrev.size(), kSample)));
  f[i++] = cache_checksum(str.first(std::min(str.size(), kSample)));
  f[i++] = cache_checksum(str.last(std::min(str.size(), kSample)));
  return f;
}

bool is_hex(const std::string& s) {
  return !s.empty() && s.size() < 128 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::optional<IndexCacheKey> DwarfIndex::cache_key(const DwarfSections& sections) {
  std::string id = sections.build_id();
  if (!is_hex(id)) return std::nullopt;
  return IndexCacheKey{id, kCacheKind, fingerprint(sections)};
}

Result<DwarfIndex> DwarfIndex::from_bytes(std::shared_ptr<const CachedBytes> bytes) {
  DwarfIndex index;
  auto st = index.view(bytes->payload());
  if (!st) return st.error();
  index.mapped_ = std::move(bytes);
  return index;
}

DwarfIndex DwarfIndex::open(const DwarfSections& sections, unsigned threads, const IndexCache& cache) {
  auto key = cache.enabled() ? cache_key(sections) : std::nullopt;
  if (!key) return build(sections, threads);
  std::string why;
  if (auto stored = cache.load(*key, &why)) {
    auto index = from_bytes(std::move(stored));
    if (index) return std::move(*index);
    why = "the index cache entry " + cache.path(*key) + " is unusable (" + index.error().message + "); it is rebuilt";
  }
  DwarfIndex index = build(sections, threads);
  if (auto st = cache.store(*key, index.payload()); !st) index.problems_.push_back(st.error().message);
  if (!why.empty()) index.problems_.push_back(why);  // this run's, not the entry's
  return index;
}

}  // namespace coroner
