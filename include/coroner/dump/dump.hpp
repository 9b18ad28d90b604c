#pragma once
// A crash dump: physical memory (what is in it and what is not), notes, and what its header says.
// Implementations: ELF cores and makedumpfile's kdump-compressed format (plain or flattened).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "coroner/dump/byte_source.hpp"
#include "coroner/dump/notes.hpp"
#include "coroner/result.hpp"

namespace coroner {

struct PhysicalRange {
  uint64_t start = 0;
  uint64_t size = 0;
};

// Who wrote the dump: decides which header fields can be trusted and how `info` reads it.
enum class DumpProducer { unknown, qemu, proc_vmcore, makedumpfile, user_space };
const char* producer_name(DumpProducer p);  // "QEMU dump-guest-memory", "user-space core", ...

// Facts a dump's own header states, when it states them.
struct DumpHeader {
  std::string format;       // "ELF core", "kdump-compressed"
  std::string container;    // "file" or "makedumpfile flattened stream"
  std::string compression;  // "none", "zlib", "lzo", "snappy", "zstd"
  DumpProducer producer = DumpProducer::unknown;
  std::optional<int> crashing_cpu;
  std::optional<int> cpu_count;
  std::optional<uint64_t> phys_base;
  std::optional<int> dump_level;     // makedumpfile -d
  std::optional<int64_t> timestamp;  // seconds since the epoch
  std::optional<std::string> release;
  bool incomplete = false;           // the writer said it did not finish
};

class Dump {
 public:
  virtual ~Dump() = default;
  const std::string& path() const { return path_; }
  const DumpHeader& header() const { return header_; }
  const DumpNotes& notes() const { return notes_; }
  // Physical memory the dump describes, whether or not every page was saved.
  const std::vector<PhysicalRange>& physical_ranges() const { return ranges_; }
  uint64_t physical_memory_size() const;

  // Fills `out` with physical memory from `paddr`, or says why not (kind not_in_dump for pages
  // the dump does not hold: holes, filtered pages, a truncated file).
  virtual Status read_physical(uint64_t paddr, std::span<uint8_t> out) const = 0;
  // read_physical for passes over all of memory (scan, search), which read each page once, on
  // several threads: it fills no cache, takes no lock (a kdump-compressed page is decoded straight
  // into `out`) and copies from the file rather than through its mapping.
  virtual Status read_physical_once(uint64_t paddr, std::span<uint8_t> out) const { return read_physical(paddr, out); }
  // The parts of physical_ranges() the dump holds bytes for, as far as its headers say (an ELF
  // segment's file size, the pages makedumpfile saved and the file still has a descriptor for): a
  // pass over memory walks these, so a header that claims terabytes costs nothing.
  virtual std::vector<PhysicalRange> held_ranges() const { return ranges_; }
  // The unit the dump stores memory in (a read of part of one decodes all of it): a power of two.
  virtual uint64_t storage_page_size() const { return 4096; }
  // ELF cores whose PT_LOADs carry virtual addresses (user-space cores, /proc/vmcore) can read
  // by virtual address directly; others say they cannot.
  virtual Status read_segment_virtual(uint64_t vaddr, std::span<uint8_t> out) const;
  virtual bool has_virtual_segments() const { return false; }
  void set_container(std::string container) { header_.container = std::move(container); }

 protected:
  explicit Dump(std::string path) : path_(std::move(path)) {}
  std::string path_;
  DumpHeader header_;
  DumpNotes notes_;
  std::vector<PhysicalRange> ranges_;
};

// Opens any supported dump: detects flattened streams, ELF cores and kdump-compressed files.
Result<std::unique_ptr<Dump>> open_dump(const std::string& path);
Result<std::unique_ptr<Dump>> open_dump(std::shared_ptr<const ByteSource> file);

}  // namespace coroner
