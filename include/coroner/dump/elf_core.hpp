#pragma once
// ELF64 core files: Linux /proc/vmcore, QEMU dump-guest-memory (physical addresses only), other
// kernels' ELF cores and user-space cores. Parsed by hand from a ByteSource so that the same code
// reads a mapped file and a flattened stream.
#include <functional>

#include "coroner/dump/dump.hpp"

namespace coroner {

struct LoadSegment {
  uint64_t file_offset = 0;
  uint64_t vaddr = 0;
  uint64_t paddr = 0;
  uint64_t file_size = 0;
  uint64_t mem_size = 0;
};

class ElfCore final : public Dump {
 public:
  static bool is_elf(const ByteSource& src);
  static Result<std::unique_ptr<ElfCore>> open(std::shared_ptr<const ByteSource> file);

  Status read_physical(uint64_t paddr, std::span<uint8_t> out) const override;
  Status read_physical_once(uint64_t paddr, std::span<uint8_t> out) const override;
  std::vector<PhysicalRange> held_ranges() const override;
  Status read_segment_virtual(uint64_t vaddr, std::span<uint8_t> out) const override;
  bool has_virtual_segments() const override { return has_virtual_; }
  const std::vector<LoadSegment>& segments() const { return segments_; }

 private:
  explicit ElfCore(std::shared_ptr<const ByteSource> file)
      : Dump(file->name()), file_(std::move(file)) {}
  Status load_program_headers();
  void describe_producer();
  // Segments sorted by one address, with the highest end reached so far at each position: segments
  // may overlap (/proc/vmcore maps the kernel image twice, once by itself and once inside RAM).
  struct SegmentIndex {
    uint64_t LoadSegment::*key = nullptr;
    std::vector<size_t> order;
    std::vector<uint64_t> reach;
  };
  SegmentIndex index_by(uint64_t LoadSegment::*key) const;
  const LoadSegment* segment_at(const SegmentIndex& index, uint64_t at) const;
  // The physical memory the segments cover, each byte once however many map it; a segment covers
  // bytes_of(segment) bytes from its physical address.
  std::vector<PhysicalRange> physical_union(const std::function<uint64_t(const LoadSegment&)>& bytes_of) const;
  Status read_by(const SegmentIndex& index, uint64_t addr, std::span<uint8_t> out, const char* space,
                 bool streaming = false) const;

  std::shared_ptr<const ByteSource> file_;
  std::vector<LoadSegment> segments_;
  SegmentIndex by_paddr_, by_vaddr_;
  bool has_virtual_ = false;
};

}  // namespace coroner
