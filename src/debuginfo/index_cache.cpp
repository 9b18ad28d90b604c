#include "coroner/debuginfo/index_cache.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace coroner {

namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'C', 'O', 'R', 'O', 'N', 'E', 'R', 'I'};
constexpr uint32_t kContainerVersion = 1;
constexpr uint64_t kByteOrder = 0x0102030405060708ull;
constexpr uint64_t kPayloadAlign = 64;
// A temporary file this old is left by a run that was killed while writing.
constexpr auto kAbandoned = std::chrono::hours(1);

struct EntryHeader {
  char magic[8];
  uint32_t container_version;
  uint32_t header_size;
  uint64_t byte_order;
  char kind[32];
  char build_id[128];
  uint64_t fingerprint[8];
  uint64_t payload_offset;
  uint64_t payload_size;
  uint64_t payload_checksum;
  uint64_t header_checksum;  // of the bytes before it
};
constexpr uint64_t kPayloadOffset = (sizeof(EntryHeader) + kPayloadAlign - 1) / kPayloadAlign * kPayloadAlign;

uint64_t header_checksum(const EntryHeader& h) {
  return cache_checksum({reinterpret_cast<const uint8_t*>(&h), offsetof(EntryHeader, header_checksum)});
}

EntryHeader header_for(const IndexCacheKey& key, std::span<const uint8_t> payload) {
  EntryHeader h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.container_version = kContainerVersion;
  h.header_size = sizeof(EntryHeader);
  h.byte_order = kByteOrder;
  std::memcpy(h.kind, key.kind.data(), std::min(key.kind.size(), sizeof h.kind - 1));
  std::memcpy(h.build_id, key.build_id.data(), std::min(key.build_id.size(), sizeof h.build_id - 1));
  std::copy(key.fingerprint.begin(), key.fingerprint.end(), h.fingerprint);
  h.payload_offset = kPayloadOffset;
  h.payload_size = payload.size();
  h.payload_checksum = cache_checksum(payload);
  h.header_checksum = header_checksum(h);
  return h;
}

// Why the mapped file is not the whole entry for `key`; empty when it is.
std::string verify(std::span<const uint8_t> file, const IndexCacheKey& key) {
  if (file.size() < kPayloadOffset) return "shorter than its header (" + std::to_string(file.size()) + " bytes)";
  EntryHeader h;
  std::memcpy(&h, file.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) return "not a coroner index file";
  if (h.container_version != kContainerVersion || h.header_size != sizeof(EntryHeader) || h.byte_order != kByteOrder) {
    return "written by another version of coroner or another machine";
  }
  if (h.header_checksum != header_checksum(h)) return "its header is corrupt";
  EntryHeader expected = header_for(key, {});
  if (std::memcmp(h.kind, expected.kind, sizeof h.kind) != 0 || std::memcmp(h.build_id, expected.build_id, sizeof h.build_id) != 0) {
    return "it holds another file's index";
  }
  if (std::memcmp(h.fingerprint, expected.fingerprint, sizeof h.fingerprint) != 0) {
    return "it was built from another file with the same build-id";
  }
  if (h.payload_offset != kPayloadOffset || h.payload_size != file.size() - kPayloadOffset) {
    return "truncated or extended (" + std::to_string(file.size()) + " bytes, its header says " +
           std::to_string(kPayloadOffset + h.payload_size) + ")";
  }
  if (h.payload_checksum != cache_checksum(file.subspan(kPayloadOffset))) return "its contents are corrupt";
  return "";
}

bool write_all(int fd, const void* data, size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Removes `path` only while it is still the file `fd` has open: another run may have just
// renamed a good entry into its place.
void remove_if_same(const std::string& path, int fd) {
  struct stat opened{}, named{};
  if (::fstat(fd, &opened) == 0 && ::stat(path.c_str(), &named) == 0 && opened.st_ino == named.st_ino &&
      opened.st_dev == named.st_dev) {
    ::unlink(path.c_str());
  }
}

}  // namespace

IndexCacheSettings default_index_cache() {
  IndexCacheSettings s;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') {
    s.directory = std::string(xdg) + "/coroner/index";
  } else if (const char* home = std::getenv("HOME"); home && *home == '/') {
    s.directory = std::string(home) + "/.cache/coroner/index";
  }
  return s;
}

uint64_t cache_checksum(std::span<const uint8_t> bytes) {
  // Four independent lanes keep the multiplier busy: several GB/s, so verifying a whole entry on
  // every run costs a few milliseconds.
  constexpr uint64_t kPrime = 0x9e3779b97f4a7c15ull;
  uint64_t lane[4] = {0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull, 0x082efa98ec4e6c89ull};
  size_t i = 0;
  for (; i + 32 <= bytes.size(); i += 32) {
    for (int l = 0; l < 4; ++l) {
      uint64_t w;
      std::memcpy(&w, bytes.data() + i + 8 * l, 8);
      lane[l] = std::rotl((lane[l] ^ w) * kPrime, 31);
    }
  }
  uint64_t h = bytes.size();
  for (uint64_t l : lane) h = std::rotl((h ^ l) * kPrime, 27);
  for (; i < bytes.size(); ++i) h = (h ^ bytes[i]) * 0x100000001b3ull;
  return h ^ (h >> 32);
}

CachedBytes::~CachedBytes() {
  if (map_) ::munmap(map_, map_size_);
}

std::string IndexCache::path(const IndexCacheKey& key) const {
  return settings_.directory + "/" + key.build_id + "." + key.kind;
}

std::shared_ptr<const CachedBytes> IndexCache::load(const IndexCacheKey& key, std::string* why) const {
  if (!enabled() || key.build_id.empty()) return nullptr;
  std::string file = path(key);
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st{};
  std::shared_ptr<const CachedBytes> out;
  std::string problem;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    problem = "not a regular file";
  } else if (st.st_size == 0) {
    problem = "empty";
  } else {
    auto size = static_cast<size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (map == MAP_FAILED) {
      problem = std::string("cannot be mapped: ") + std::strerror(errno);
    } else {
      std::span<const uint8_t> bytes(static_cast<const uint8_t*>(map), size);
      problem = verify(bytes, key);
      if (problem.empty()) {
        out = std::make_shared<CachedBytes>(map, size, bytes.subspan(kPayloadOffset));
        ::futimens(fd, nullptr);  // recently used: trimmed last
      } else {
        ::munmap(map, size);
      }
    }
  }
  if (!out) {
    remove_if_same(file, fd);
    if (why) *why = "the index cache entry " + file + " is unusable (" + problem + "); it was removed and is rebuilt";
  }
  ::close(fd);
  return out;
}

Status IndexCache::store(const IndexCacheKey& key, std::span<const uint8_t> payload) const {
  if (!enabled() || key.build_id.empty()) return ok_status();
  std::error_code ec;
  fs::create_directories(settings_.directory, ec);
  std::string final_path = path(key);
  std::string temp = settings_.directory + "/." + key.build_id + "." + key.kind + ".tmp.XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return make_error("cannot write the index cache in " + settings_.directory + ": " + std::strerror(errno) +
                      "; set XDG_CACHE_HOME to a writable directory, or give --no-cache");
  }
  EntryHeader h = header_for(key, payload);
  char padding[kPayloadOffset - sizeof(EntryHeader) + 1] = {};
  // No fsync: an entry the disk lost half of fails its checksum and is rebuilt.
  bool written = write_all(fd, &h, sizeof h) && write_all(fd, padding, kPayloadOffset - sizeof h) &&
                 write_all(fd, payload.data(), payload.size());
  int saved = errno;
  ::fchmod(fd, 0644);
  bool closed = ::close(fd) == 0;
  if (!written || !closed || ::rename(temp.c_str(), final_path.c_str()) != 0) {
    if (written && closed) saved = errno;
    ::unlink(temp.c_str());
    return make_error("cannot write the index cache entry " + final_path + ": " + std::strerror(saved) +
                      "; free space there, or give --no-cache");
  }
  trim();
  return ok_status();
}

void IndexCache::trim() const {
  struct File {
    fs::file_time_type used;
    uint64_t size;
    fs::path path;
  };
  std::vector<File> entries;
  uint64_t total = 0;
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (const auto& e : fs::directory_iterator(settings_.directory, ec)) {
    std::error_code entry_ec;
    if (!e.is_regular_file(entry_ec)) continue;
    auto used = e.last_write_time(entry_ec);
    uint64_t size = e.file_size(entry_ec);
    if (entry_ec) continue;
    if (e.path().filename().string().starts_with(".")) {
      if (now - used > kAbandoned) fs::remove(e.path(), entry_ec);
      continue;
    }
    entries.push_back({used, size, e.path()});
    total += size;
  }
  std::sort(entries.begin(), entries.end(), [](const File& a, const File& b) { return a.used < b.used; });
  // The newest entry stays whatever its size: it is the one this run just wrote.
  for (size_t i = 0; total > settings_.max_bytes && i + 1 < entries.size(); ++i) {
    std::error_code remove_ec;
    if (fs::remove(entries[i].path, remove_ec)) total -= entries[i].size;
  }
}

}  // namespace coroner
