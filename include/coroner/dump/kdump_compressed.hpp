#pragma once
// makedumpfile's kdump-compressed format ("KDUMP   "): disk_dump_header, kdump_sub_header, two
// page bitmaps (pages that exist; pages that were saved) and a page descriptor per saved page.
#include <list>
#include <mutex>
#include <unordered_map>

#include "coroner/dump/dump.hpp"
#include "coroner/dump/page_codec.hpp"

namespace coroner {

// The layout makedumpfile writes (diskdump_mod.h), as plain data for readers and test writers.
namespace kdump_format {
constexpr char kSignature[8] = {'K', 'D', 'U', 'M', 'P', ' ', ' ', ' '};
constexpr uint32_t kCompressedZlib = 0x1;
constexpr uint32_t kCompressedLzo = 0x2;
constexpr uint32_t kCompressedSnappy = 0x4;
constexpr uint32_t kCompressedIncomplete = 0x8;
constexpr uint32_t kCompressedZstd = 0x20;

#pragma pack(push, 1)
struct DiskDumpHeader {
  char signature[8];
  int32_t header_version;
  char utsname[6][65];
  uint8_t pad[6];
  int64_t timestamp_sec;
  int64_t timestamp_usec;
  uint32_t status;
  int32_t block_size;
  int32_t sub_hdr_size;
  uint32_t bitmap_blocks;
  uint32_t max_mapnr;
  uint32_t total_ram_blocks;
  uint32_t device_blocks;
  uint32_t written_blocks;
  uint32_t current_cpu;
  int32_t nr_cpus;
};
struct KdumpSubHeader {
  uint64_t phys_base;
  int32_t dump_level;
  int32_t split;
  uint64_t start_pfn;
  uint64_t end_pfn;
  uint64_t offset_vmcoreinfo;
  uint64_t size_vmcoreinfo;
  uint64_t offset_note;
  uint64_t size_note;
  uint64_t offset_eraseinfo;
  uint64_t size_eraseinfo;
  uint64_t start_pfn_64;
  uint64_t end_pfn_64;
  uint64_t max_mapnr_64;
};
struct PageDesc {
  uint64_t offset;
  uint32_t size;
  uint32_t flags;
  uint64_t page_flags;
};
#pragma pack(pop)
static_assert(sizeof(DiskDumpHeader) == 464);
static_assert(sizeof(KdumpSubHeader) == 104);
static_assert(sizeof(PageDesc) == 24);
}  // namespace kdump_format

class KdumpCompressed final : public Dump {
 public:
  static bool is_kdump(const ByteSource& src);
  static Result<std::unique_ptr<KdumpCompressed>> open(std::shared_ptr<const ByteSource> file);

  Status read_physical(uint64_t paddr, std::span<uint8_t> out) const override;
  Status read_physical_once(uint64_t paddr, std::span<uint8_t> out) const override;
  uint64_t storage_page_size() const override { return block_size_; }
  std::vector<PhysicalRange> held_ranges() const override;
  uint64_t page_size() const { return block_size_; }
  uint64_t max_pfn() const { return max_mapnr_; }
  uint64_t saved_page_count() const { return saved_pages_; }

 private:
  explicit KdumpCompressed(std::shared_ptr<const ByteSource> file)
      : Dump(file->name()), file_(std::move(file)) {}
  Status load();
  Status load_bitmaps(uint64_t bitmap_offset, uint64_t bitmap_bytes);
  void load_notes(const kdump_format::KdumpSubHeader& sub, int header_version);
  bool bit(const std::vector<uint64_t>& bitmap, uint64_t pfn) const;
  uint64_t rank(uint64_t pfn) const;  // saved pages below pfn = index of pfn's descriptor
  Status page_in_dump(uint64_t pfn) const;  // the page is in the dump, or why not
  Result<const std::vector<uint8_t>*> page(uint64_t pfn) const;
  Status decode_page(uint64_t pfn, std::span<uint8_t> out) const;  // out: one whole page

  std::shared_ptr<const ByteSource> file_;
  uint64_t block_size_ = 0;
  uint64_t max_mapnr_ = 0;
  uint64_t descs_offset_ = 0;
  uint64_t saved_pages_ = 0;
  std::vector<uint64_t> present_;  // 1st bitmap: the page exists
  std::vector<uint64_t> saved_;    // 2nd bitmap: the page was written
  std::vector<uint64_t> rank_;     // saved pages before each 512-page block

  // A small LRU of decoded pages.
  static constexpr size_t kCachedPages = 512;
  mutable std::mutex cache_mutex_;
  mutable std::list<std::pair<uint64_t, std::vector<uint8_t>>> lru_;
  mutable std::unordered_map<uint64_t, decltype(lru_)::iterator> cache_;
};

}  // namespace coroner
