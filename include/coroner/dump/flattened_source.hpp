#pragma once
// makedumpfile's flattened format (what `makedumpfile -F` and QEMU's kdump output write): a
// 4096-byte header with the signature "makedumpfile", then records of (offset, size) big-endian
// headers each followed by `size` bytes that belong at `offset` of the real file, ending with
// (-1, -1). FlattenedSource presents the file the records describe, without writing it out.
#include <map>

#include "coroner/dump/byte_source.hpp"

namespace coroner {

class FlattenedSource final : public ByteSource {
 public:
  static bool is_flattened(const ByteSource& src);
  // Indexes every record; later records override earlier ones, as `makedumpfile -R` does.
  static Result<std::unique_ptr<FlattenedSource>> open(std::shared_ptr<const ByteSource> stream);

  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, std::span<uint8_t> out) const override;
  Status read_streaming(uint64_t offset, std::span<uint8_t> out) const override;
  std::span<const uint8_t> view(uint64_t offset, uint64_t length) const override;
  const std::string& name() const override { return stream_->name(); }
  size_t record_count() const { return extents_.size(); }

 private:
  struct Extent {
    uint64_t length;
    uint64_t stream_offset;
  };
  explicit FlattenedSource(std::shared_ptr<const ByteSource> stream) : stream_(std::move(stream)) {}
  void place(uint64_t offset, uint64_t length, uint64_t stream_offset);
  Status read_from_stream(uint64_t offset, std::span<uint8_t> out, bool streaming) const;

  std::shared_ptr<const ByteSource> stream_;
  std::map<uint64_t, Extent> extents_;  // logical offset -> where its bytes are in the stream
  uint64_t size_ = 0;
};

}  // namespace coroner
