#include "coroner/dump/byte_source.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "coroner/format.hpp"

namespace coroner {

std::span<const uint8_t> ByteSource::view(uint64_t, uint64_t) const { return {}; }

Error ByteSource::error_at(uint64_t offset, const std::string& what) const {
  return make_error(name() + ": offset " + hex(offset) + ": " + what);
}

// No part of a dump read whole (notes, VMCOREINFO, one compressed page) comes near this; a length
// beyond it is a corrupt header's, and a sparse (flattened) file's size would not stop it.
constexpr uint64_t kMaxReadBytes = 256ull << 20;

Result<std::vector<uint8_t>> ByteSource::read_bytes(uint64_t offset, uint64_t length) const {
  if (length > kMaxReadBytes) {
    return error_at(offset, "wants " + std::to_string(length) + " bytes in one piece, more than any part of a dump " +
                                "holds (at most 256 MiB): the header that gives this size is corrupt");
  }
  if (!in_bounds(offset, length, size())) {
    return error_at(offset, "wants " + std::to_string(length) + " bytes but the file has " +
                                std::to_string(size()) + " (truncated?)");
  }
  std::vector<uint8_t> bytes(length);
  auto st = read(offset, bytes);
  if (!st) return st.error();
  return bytes;
}

static Status copy_in_bounds(const ByteSource& src, const uint8_t* data, uint64_t size,
                             uint64_t offset, std::span<uint8_t> out) {
  if (!in_bounds(offset, out.size(), size)) {
    return src.error_at(offset, "read of " + std::to_string(out.size()) +
                                    " bytes runs past the end of the file (size " +
                                    std::to_string(size) + "); the file may be truncated");
  }
  if (!out.empty()) std::memcpy(out.data(), data + offset, out.size());
  return ok_status();
}

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(path + ": cannot open: " + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return make_error(path + ": cannot stat: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(path + ": not a regular file");
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint8_t* data = nullptr;
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return make_error(path + ": cannot map: " + std::strerror(err));
    }
    data = static_cast<const uint8_t*>(p);
  }
  return std::unique_ptr<MappedFile>(new MappedFile(path, fd, data, size));
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  ::close(fd_);
}

Status MappedFile::read(uint64_t offset, std::span<uint8_t> out) const {
  return copy_in_bounds(*this, data_, size_, offset, out);
}

Status MappedFile::read_streaming(uint64_t offset, std::span<uint8_t> out) const {
  if (!in_bounds(offset, out.size(), size_)) return read(offset, out);  // says why
  uint64_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return error_at(offset + done, "the file ended here: it was truncated while being read; run again on a copy that no one writes to");
    if (n < 0) return error_at(offset + done, std::string("cannot be read: ") + std::strerror(errno));
    done += static_cast<uint64_t>(n);
  }
  return ok_status();
}

std::span<const uint8_t> MappedFile::view(uint64_t offset, uint64_t length) const {
  if (!in_bounds(offset, length, size_)) return {};
  return {data_ + offset, length};
}

Status BufferSource::read(uint64_t offset, std::span<uint8_t> out) const {
  return copy_in_bounds(*this, bytes_.data(), bytes_.size(), offset, out);
}

std::span<const uint8_t> BufferSource::view(uint64_t offset, uint64_t length) const {
  if (!in_bounds(offset, length, bytes_.size())) return {};
  return {bytes_.data() + offset, length};
}

}  // namespace coroner
