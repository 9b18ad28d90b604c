#include "coroner/dump/flattened_source.hpp"

#include <bit>

#include "coroner/format.hpp"

namespace coroner {
namespace {

constexpr char kSignature[] = "makedumpfile";
constexpr uint64_t kHeaderSize = 4096;
constexpr int64_t kTypeFlat = 1;

int64_t from_big_endian(int64_t v) {
  return static_cast<int64_t>(__builtin_bswap64(static_cast<uint64_t>(v)));
}

}  // namespace

bool FlattenedSource::is_flattened(const ByteSource& src) {
  char sig[16] = {};
  if (!src.read(0, {reinterpret_cast<uint8_t*>(sig), sizeof sig})) return false;
  return std::memcmp(sig, kSignature, sizeof kSignature) == 0;
}

Result<std::unique_ptr<FlattenedSource>> FlattenedSource::open(
    std::shared_ptr<const ByteSource> stream) {
  auto type = stream->read_value<int64_t>(16);
  if (!type) return type.error();
  if (from_big_endian(*type) != kTypeFlat) {
    return stream->error_at(16, "flattened header type " + std::to_string(from_big_endian(*type)) +
                                    " is not 1 (flat); not a makedumpfile flattened stream");
  }
  std::unique_ptr<FlattenedSource> flat(new FlattenedSource(stream));
  uint64_t pos = kHeaderSize;
  for (;;) {
    int64_t hdr[2];
    auto st = stream->read(pos, {reinterpret_cast<uint8_t*>(hdr), sizeof hdr});
    if (!st) {
      // A stream cut short (a dump interrupted while writing) still yields what was written.
      if (pos == stream->size()) break;
      return stream->error_at(pos, "flattened record header is truncated");
    }
    int64_t offset = from_big_endian(hdr[0]);
    int64_t length = from_big_endian(hdr[1]);
    if (offset == -1 && length == -1) break;
    pos += sizeof hdr;
    if (offset < 0 || length < 0 || !in_bounds(pos, static_cast<uint64_t>(length), stream->size())) {
      return stream->error_at(pos - sizeof hdr,
                              "flattened record (offset " + std::to_string(offset) + ", size " +
                                  std::to_string(length) + ") is corrupt or runs past the end of the stream");
    }
    if (length > 0) flat->place(static_cast<uint64_t>(offset), static_cast<uint64_t>(length), pos);
    pos += static_cast<uint64_t>(length);
  }
  return flat;
}

void FlattenedSource::place(uint64_t offset, uint64_t length, uint64_t stream_offset) {
  const uint64_t end = offset + length;
  // Trim or split whatever this record overwrites.
  auto it = extents_.lower_bound(offset);
  if (it != extents_.begin()) {
    auto prev = std::prev(it);
    uint64_t prev_end = prev->first + prev->second.length;
    if (prev_end > offset) {
      if (prev_end > end) {
        extents_[end] = {prev_end - end, prev->second.stream_offset + (end - prev->first)};
      }
      prev->second.length = offset - prev->first;
    }
  }
  while (it != extents_.end() && it->first < end) {
    uint64_t it_end = it->first + it->second.length;
    if (it_end > end) {
      extents_[end] = {it_end - end, it->second.stream_offset + (end - it->first)};
    }
    it = extents_.erase(it);
  }
  extents_[offset] = {length, stream_offset};
  if (end > size_) size_ = end;
}

Status FlattenedSource::read(uint64_t offset, std::span<uint8_t> out) const { return read_from_stream(offset, out, false); }

Status FlattenedSource::read_streaming(uint64_t offset, std::span<uint8_t> out) const {
  return read_from_stream(offset, out, true);
}

Status FlattenedSource::read_from_stream(uint64_t offset, std::span<uint8_t> out, bool streaming) const {
  if (!in_bounds(offset, out.size(), size_)) {
    return error_at(offset, "read of " + std::to_string(out.size()) +
                                " bytes runs past the end of the flattened dump's content");
  }
  uint64_t done = 0;
  while (done < out.size()) {
    uint64_t at = offset + done;
    auto it = extents_.upper_bound(at);
    if (it == extents_.begin() || (--it, at >= it->first + it->second.length)) {
      return error_at(at, "no flattened record covers logical offset " + hex(at) +
                              " (the stream never wrote it)");
    }
    uint64_t within = at - it->first;
    uint64_t n = std::min<uint64_t>(out.size() - done, it->second.length - within);
    uint64_t from = it->second.stream_offset + within;
    auto st = streaming ? stream_->read_streaming(from, out.subspan(done, n)) : stream_->read(from, out.subspan(done, n));
    if (!st) return st;
    done += n;
  }
  return ok_status();
}

std::span<const uint8_t> FlattenedSource::view(uint64_t offset, uint64_t length) const {
  auto it = extents_.upper_bound(offset);
  if (it == extents_.begin()) return {};
  --it;
  uint64_t within = offset - it->first;
  if (within > it->second.length || length > it->second.length - within) return {};
  return stream_->view(it->second.stream_offset + within, length);
}

}  // namespace coroner
