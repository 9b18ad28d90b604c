#pragma once
// A byte source is a file-like sequence of bytes: a mapped file, a flattened stream seen as the file
// it describes, or a buffer. Every read is bounds-checked and says what failed, naming the file.
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "coroner/result.hpp"

namespace coroner {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Fills `out` entirely from `offset`, or returns an error naming the file and offset.
  virtual Status read(uint64_t offset, std::span<uint8_t> out) const = 0;
  // The bytes in place when they are contiguous in memory (no copy); empty when not.
  virtual std::span<const uint8_t> view(uint64_t offset, uint64_t length) const;
  // `read` for a pass over most of the file, which reads each byte once: a mapped file copies
  // with pread, as faulting its mapping in page by page costs several times the copy.
  virtual Status read_streaming(uint64_t offset, std::span<uint8_t> out) const { return read(offset, out); }
  // The file this came from, for messages.
  virtual const std::string& name() const = 0;

  Error error_at(uint64_t offset, const std::string& what) const;

  template <class T>
  Result<T> read_value(uint64_t offset) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T value{};
    auto st = read(offset, {reinterpret_cast<uint8_t*>(&value), sizeof(T)});
    if (!st) return st.error();
    return value;
  }
  Result<std::vector<uint8_t>> read_bytes(uint64_t offset, uint64_t length) const;
};

// A read-only memory map of a whole file.
class MappedFile final : public ByteSource {
 public:
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile() override;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, std::span<uint8_t> out) const override;
  std::span<const uint8_t> view(uint64_t offset, uint64_t length) const override;
  Status read_streaming(uint64_t offset, std::span<uint8_t> out) const override;
  const std::string& name() const override { return path_; }

 private:
  MappedFile(std::string path, int fd, const uint8_t* data, uint64_t size)
      : path_(std::move(path)), fd_(fd), data_(data), size_(size) {}
  std::string path_;
  int fd_;
  const uint8_t* data_;
  uint64_t size_;
};

// Bytes held in memory: test inputs, and headers copied out of a stream.
class BufferSource final : public ByteSource {
 public:
  BufferSource(std::string name, std::vector<uint8_t> bytes)
      : name_(std::move(name)), bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_.size(); }
  Status read(uint64_t offset, std::span<uint8_t> out) const override;
  std::span<const uint8_t> view(uint64_t offset, uint64_t length) const override;
  const std::string& name() const override { return name_; }

 private:
  std::string name_;
  std::vector<uint8_t> bytes_;
};

// True when [offset, offset+length) lies within [0, size) without overflow.
constexpr bool in_bounds(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

}  // namespace coroner
