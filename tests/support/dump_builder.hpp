#pragma once
// Writers of small synthetic dumps for tests: a sparse physical memory image, a kernel-like layout
// in it (page tables, printk ring buffer, VMCOREINFO), and the three file formats coroner reads.
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "coroner/dump/page_codec.hpp"

namespace coroner::testing {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kPage = 4096;

class PhysicalImage {
 public:
  void write(uint64_t paddr, std::span<const uint8_t> bytes);
  void write_string(uint64_t paddr, const std::string& s) { write(paddr, {reinterpret_cast<const uint8_t*>(s.data()), s.size() + 1}); }
  template <class T>
  void put(uint64_t paddr, T v) { write(paddr, {reinterpret_cast<const uint8_t*>(&v), sizeof v}); }
  Bytes page(uint64_t pfn) const;  // zeros where nothing was written
  Bytes range(uint64_t paddr, uint64_t size) const;
 private:
  std::map<uint64_t, Bytes> pages_;
};

struct CpuRegisters {
  int pid = 0;
  uint64_t rip = 0, rsp = 0, rbp = 0;
};
// NT_PRSTATUS per CPU, optionally a QEMU note with CR3 per CPU, and a VMCOREINFO note.
Bytes build_notes(const std::vector<CpuRegisters>& cpus, const std::string& vmcoreinfo,
                  const std::vector<uint64_t>& qemu_cr3 = {});

struct Segment {
  uint64_t paddr, size;
  uint64_t vaddr = 0;
};
Bytes build_elf_core(const PhysicalImage& mem, const std::vector<Segment>& segments, const Bytes& notes);

struct KdumpOptions {
  PageCodec codec = PageCodec::zlib;
  std::set<uint64_t> excluded_pfns;  // present but filtered out
  std::set<uint64_t> hole_pfns;      // no RAM
  int header_version = 6;
  int dump_level = 31;
};
Bytes build_kdump(const PhysicalImage& mem, uint64_t max_pfn, const Bytes& notes, const std::string& vmcoreinfo,
                  const KdumpOptions& options);
// makedumpfile's flattened stream of `file`: records of `chunk` bytes, written out of order, plus a
// bogus first write of the header that a later record overrides (as makedumpfile does).
Bytes flatten(const Bytes& file, size_t chunk);

// A tiny x86-64 kernel: page tables, a printk ring buffer, VMCOREINFO describing them.
class SyntheticKernel {
 public:
  static constexpr uint64_t kPhysBase = 0;
  static constexpr uint64_t kTopPgtVa = 0xffffffff80010000ull;  // pa 0x10000 via phys_base 0
  static constexpr uint64_t kDataVa = 0xffffffff81000000ull;    // kernel data, 2 MiB page -> pa 0x200000
  static constexpr uint64_t kDataPa = 0x200000;
  static constexpr uint64_t kDirectMap = 0xffff888000000000ull;  // 1 GiB pages -> pa 0
  static constexpr uint64_t kRingVa = 0xffffc90000000000ull;     // 4 KiB pages (vmalloc-like)
  static constexpr uint64_t kRingPa = 0x100000;

  explicit SyntheticKernel(int levels = 4);
  PhysicalImage& memory() { return mem_; }
  // Records go into a ring of 2^count_bits descriptors and 2^size_bits text bytes; old ones are
  // overwritten as in the kernel.
  void write_log(const std::vector<std::pair<uint64_t, std::string>>& records, unsigned count_bits = 4,
                 unsigned size_bits = 9);
  std::string vmcoreinfo() const;
  uint64_t prb_pointer_va() const { return kDataVa + 0x100; }

 private:
  uint64_t alloc_table();
  void map(uint64_t va, uint64_t pa, int leaf_level);
  PhysicalImage mem_;
  int levels_;
  uint64_t next_table_ = 0x10000;
};

}  // namespace coroner::testing
