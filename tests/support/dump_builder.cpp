#include "dump_builder.hpp"

#include <elf.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <stdexcept>

#include "coroner/dump/kdump_compressed.hpp"

namespace coroner::testing {
namespace {

template <class T>
void append(Bytes& out, const T& v) {
  auto p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}
void pad_to(Bytes& out, size_t align) { out.resize((out.size() + align - 1) / align * align); }

void append_note(Bytes& out, const std::string& name, uint32_t type, const Bytes& desc) {
  Elf64_Nhdr h{static_cast<Elf64_Word>(name.size() + 1), static_cast<Elf64_Word>(desc.size()), type};
  append(out, h);
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(0);
  pad_to(out, 4);
  out.insert(out.end(), desc.begin(), desc.end());
  pad_to(out, 4);
}

template <class T>
void put_at(Bytes& b, size_t off, T v) { std::memcpy(b.data() + off, &v, sizeof v); }

Bytes compress(PageCodec codec, const Bytes& page) {
  Bytes out;
  switch (codec) {
    case PageCodec::none: return page;
    case PageCodec::zlib: {
      uLongf len = compressBound(page.size());
      out.resize(len);
      compress2(out.data(), &len, page.data(), page.size(), 6);
      out.resize(len);
      return out;
    }
    case PageCodec::lzo: {
      lzo_init();
      Bytes work(LZO1X_1_MEM_COMPRESS);
      out.resize(page.size() + page.size() / 16 + 64 + 3);
      lzo_uint len = out.size();
      lzo1x_1_compress(page.data(), page.size(), out.data(), &len, work.data());
      out.resize(len);
      return out;
    }
    case PageCodec::snappy: {
      size_t len = snappy_max_compressed_length(page.size());
      out.resize(len);
      snappy_compress(reinterpret_cast<const char*>(page.data()), page.size(), reinterpret_cast<char*>(out.data()), &len);
      out.resize(len);
      return out;
    }
    case PageCodec::zstd: {
      out.resize(ZSTD_compressBound(page.size()));
      out.resize(ZSTD_compress(out.data(), out.size(), page.data(), page.size(), 3));
      return out;
    }
  }
  throw std::logic_error("codec");
}

uint32_t codec_flag(PageCodec codec) {
  using namespace kdump_format;
  switch (codec) {
    case PageCodec::zlib: return kCompressedZlib;
    case PageCodec::lzo: return kCompressedLzo;
    case PageCodec::snappy: return kCompressedSnappy;
    case PageCodec::zstd: return kCompressedZstd;
    default: return 0;
  }
}

}  // namespace

void PhysicalImage::write(uint64_t paddr, std::span<const uint8_t> bytes) {
  for (size_t i = 0; i < bytes.size();) {
    uint64_t at = paddr + i;
    Bytes& pg = pages_[at / kPage];
    pg.resize(kPage);
    size_t n = std::min<size_t>(bytes.size() - i, kPage - at % kPage);
    std::memcpy(pg.data() + at % kPage, bytes.data() + i, n);
    i += n;
  }
}

Bytes PhysicalImage::page(uint64_t pfn) const {
  auto it = pages_.find(pfn);
  return it == pages_.end() ? Bytes(kPage, 0) : it->second;
}

Bytes PhysicalImage::range(uint64_t paddr, uint64_t size) const {
  Bytes out;
  out.reserve(size);
  for (uint64_t at = paddr; at < paddr + size;) {
    Bytes pg = page(at / kPage);
    uint64_t n = std::min<uint64_t>(paddr + size - at, kPage - at % kPage);
    out.insert(out.end(), pg.begin() + at % kPage, pg.begin() + at % kPage + n);
    at += n;
  }
  return out;
}

Bytes build_notes(const std::vector<CpuRegisters>& cpus, const std::string& vmcoreinfo,
                  const std::vector<uint64_t>& qemu_cr3) {
  Bytes out;
  for (size_t i = 0; i < cpus.size(); ++i) {
    Bytes pr(336, 0);
    put_at<int32_t>(pr, 32, cpus[i].pid);
    put_at<uint64_t>(pr, 112 + 8 * 16, cpus[i].rip);
    put_at<uint64_t>(pr, 112 + 8 * 19, cpus[i].rsp);
    put_at<uint64_t>(pr, 112 + 8 * 4, cpus[i].rbp);
    append_note(out, "CORE", NT_PRSTATUS, pr);
    if (i < qemu_cr3.size()) {
      Bytes q(440, 0);
      put_at<uint32_t>(q, 0, 1);
      put_at<uint32_t>(q, 4, 440);
      put_at<uint64_t>(q, 136, cpus[i].rip);
      put_at<uint64_t>(q, 416, qemu_cr3[i]);
      append_note(out, "QEMU", 0, q);
    }
  }
  if (!vmcoreinfo.empty()) append_note(out, "VMCOREINFO", 0, Bytes(vmcoreinfo.begin(), vmcoreinfo.end()));
  return out;
}

Bytes build_elf_core(const PhysicalImage& mem, const std::vector<Segment>& segments, const Bytes& notes) {
  Bytes out;
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof eh;
  eh.e_ehsize = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<Elf64_Half>(1 + segments.size());
  append(out, eh);
  uint64_t data_at = sizeof eh + eh.e_phnum * sizeof(Elf64_Phdr);
  Elf64_Phdr note{};
  note.p_type = PT_NOTE;
  note.p_offset = data_at;
  note.p_filesz = note.p_memsz = notes.size();
  append(out, note);
  uint64_t at = data_at + notes.size();
  for (const Segment& s : segments) {
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_offset = at;
    ph.p_paddr = s.paddr;
    ph.p_vaddr = s.vaddr;
    ph.p_filesz = ph.p_memsz = s.size;
    append(out, ph);
    at += s.size;
  }
  out.insert(out.end(), notes.begin(), notes.end());
  for (const Segment& s : segments) {
    Bytes b = mem.range(s.paddr, s.size);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

Bytes build_kdump(const PhysicalImage& mem, uint64_t max_pfn, const Bytes& notes, const std::string& vmcoreinfo,
                  const KdumpOptions& o) {
  using namespace kdump_format;
  uint64_t bitmap_bytes_each = ((max_pfn + 7) / 8 + kPage - 1) / kPage * kPage;
  uint64_t bitmap_blocks = 2 * bitmap_bytes_each / kPage;
  Bytes present(bitmap_bytes_each, 0), saved(bitmap_bytes_each, 0);
  std::vector<uint64_t> saved_pfns;
  for (uint64_t pfn = 0; pfn < max_pfn; ++pfn) {
    if (o.hole_pfns.count(pfn)) continue;
    present[pfn / 8] |= uint8_t(1u << (pfn % 8));
    if (o.excluded_pfns.count(pfn)) continue;
    saved[pfn / 8] |= uint8_t(1u << (pfn % 8));
    saved_pfns.push_back(pfn);
  }
  uint64_t descs_at = kPage * (2 + bitmap_blocks);
  uint64_t data_at = descs_at + saved_pfns.size() * sizeof(PageDesc);
  Bytes descs, data;
  for (uint64_t pfn : saved_pfns) {
    Bytes pg = mem.page(pfn);
    Bytes c = compress(o.codec, pg);
    uint32_t flags = codec_flag(o.codec);
    if (c.size() >= kPage) {
      c = pg;
      flags = 0;
    }
    PageDesc d{data_at + data.size(), static_cast<uint32_t>(c.size()), flags, 0};
    append(descs, d);
    data.insert(data.end(), c.begin(), c.end());
  }
  uint64_t notes_at = data_at + data.size();
  uint64_t vmcoreinfo_at = notes_at + notes.size();

  DiskDumpHeader h{};
  std::memcpy(h.signature, kSignature, sizeof kSignature);
  h.header_version = o.header_version;
  std::strcpy(h.utsname[2], "6.1.0-synthetic");
  std::strcpy(h.utsname[4], "x86_64");
  h.status = codec_flag(o.codec);
  h.block_size = static_cast<int32_t>(kPage);
  h.sub_hdr_size = 1;
  h.bitmap_blocks = static_cast<uint32_t>(bitmap_blocks);
  h.max_mapnr = static_cast<uint32_t>(max_pfn);
  h.current_cpu = 1;
  h.nr_cpus = 2;
  KdumpSubHeader sub{};
  sub.phys_base = 0;
  sub.dump_level = o.dump_level;
  sub.offset_vmcoreinfo = vmcoreinfo_at;
  sub.size_vmcoreinfo = vmcoreinfo.size();
  sub.offset_note = notes_at;
  sub.size_note = notes.size();
  sub.max_mapnr_64 = max_pfn;

  Bytes out;
  append(out, h);
  out.resize(kPage);
  append(out, sub);
  out.resize(2 * kPage);
  out.insert(out.end(), present.begin(), present.end());
  out.insert(out.end(), saved.begin(), saved.end());
  out.insert(out.end(), descs.begin(), descs.end());
  out.insert(out.end(), data.begin(), data.end());
  out.insert(out.end(), notes.begin(), notes.end());
  out.insert(out.end(), vmcoreinfo.begin(), vmcoreinfo.end());
  return out;
}

Bytes flatten(const Bytes& file, size_t chunk) {
  Bytes out(4096, 0);
  std::memcpy(out.data(), "makedumpfile", 12);
  put_at<int64_t>(out, 16, static_cast<int64_t>(__builtin_bswap64(1)));
  put_at<int64_t>(out, 24, static_cast<int64_t>(__builtin_bswap64(1)));
  auto record = [&](uint64_t offset, const uint8_t* p, uint64_t n) {
    append(out, static_cast<int64_t>(__builtin_bswap64(offset)));
    append(out, static_cast<int64_t>(__builtin_bswap64(n)));
    out.insert(out.end(), p, p + n);
  };
  Bytes bogus(std::min(chunk, file.size()), 0xee);
  record(0, bogus.data(), bogus.size());  // overridden below
  std::vector<uint64_t> starts;
  for (uint64_t at = 0; at < file.size(); at += chunk) starts.push_back(at);
  for (auto it = starts.rbegin(); it != starts.rend(); ++it) {
    record(*it, file.data() + *it, std::min<uint64_t>(chunk, file.size() - *it));
  }
  append(out, int64_t{-1});
  append(out, int64_t{-1});
  return out;
}

SyntheticKernel::SyntheticKernel(int levels) : levels_(levels) {
  alloc_table();  // the top level, at 0x10000
  map(kDataVa, kDataPa, 1);
  map(kTopPgtVa & ~0x1fffffull, 0, 1);  // so init_top_pgt itself is readable by address
  map(kDirectMap, 0, 2);
  for (uint64_t i = 0; i < 4; ++i) map(kRingVa + i * kPage, kRingPa + i * kPage, 0);
}

uint64_t SyntheticKernel::alloc_table() {
  uint64_t t = next_table_;
  next_table_ += kPage;
  mem_.write(t, Bytes(kPage, 0));
  return t;
}

void SyntheticKernel::map(uint64_t va, uint64_t pa, int leaf_level) {
  uint64_t table = 0x10000;
  for (int level = levels_ - 1; level >= 0; --level) {
    uint64_t entry_at = table + ((va >> (12 + 9 * level)) & 511) * 8;
    if (level == leaf_level) {
      mem_.put<uint64_t>(entry_at, pa | 0x3 | (level > 0 ? 0x80 : 0));
      return;
    }
    uint64_t entry = 0;
    std::memcpy(&entry, mem_.range(entry_at, 8).data(), 8);
    if (!(entry & 1)) {
      entry = alloc_table() | 0x3;
      mem_.put<uint64_t>(entry_at, entry);
    }
    table = entry & 0x000ffffffffff000ull;
  }
}

void SyntheticKernel::write_log(const std::vector<std::pair<uint64_t, std::string>>& records, unsigned count_bits,
                                unsigned size_bits) {
  const uint64_t count = 1ull << count_bits, data_size = 1ull << size_bits;
  const uint64_t descs = kRingVa, infos = kRingVa + kPage, data = kRingVa + 2 * kPage;
  auto pa = [](uint64_t va) { return kRingPa + (va - kRingVa); };
  const uint64_t prb = kDataVa + 0x200;
  auto data_pa = [&](uint64_t va) { return kDataPa + (va - kDataVa); };
  mem_.put<uint64_t>(data_pa(prb_pointer_va()), prb);

  const uint64_t first_id = count * 5 + 3;  // ids do not start at slot 0
  uint64_t head_lpos = data_size * 7;       // nor does the data ring start at lpos 0
  struct Placed { uint64_t id, begin, next; };
  std::vector<Placed> placed;
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string& text = records[i].second;
    uint64_t id = first_id + i;
    uint64_t size = (8 + text.size() + 7) / 8 * 8;
    // As the kernel's get_next_lpos(): a block that would reach the next wrap starts it instead.
    uint64_t begin = head_lpos, next = begin + size, text_at = begin & (data_size - 1);
    if ((begin >> size_bits) != (next >> size_bits)) {
      next = (next & ~(data_size - 1)) + size;
      text_at = 0;
      mem_.put<uint64_t>(pa(data + (begin & (data_size - 1))), id);
    }
    mem_.put<uint64_t>(pa(data + text_at), id);
    mem_.write(pa(data + text_at + 8), {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
    head_lpos = next;
    placed.push_back({id, begin, next});
    uint64_t slot = id % count;
    mem_.put<uint64_t>(pa(descs + slot * 24), (2ull << 62) | id);  // finalized
    mem_.put<uint64_t>(pa(descs + slot * 24 + 8), begin);
    mem_.put<uint64_t>(pa(descs + slot * 24 + 16), next);
    uint64_t info = pa(infos + slot * 88);
    mem_.put<uint64_t>(info + 0, i);                       // seq
    mem_.put<uint64_t>(info + 8, records[i].first);        // ts_nsec
    mem_.put<uint16_t>(info + 16, static_cast<uint16_t>(text.size()));
    mem_.put<uint32_t>(info + 20, 0x80000000u | 1);        // caller: CPU 1
  }
  // The tail: the oldest record whose descriptor and text both survive.
  uint64_t head_id = placed.back().id, tail_id = head_id;
  for (auto it = placed.rbegin(); it != placed.rend(); ++it) {
    if (head_id - it->id >= count || head_lpos - it->begin > data_size) break;
    tail_id = it->id;
  }
  mem_.put<uint32_t>(data_pa(prb + 0), count_bits);
  mem_.put<uint64_t>(data_pa(prb + 8), descs);
  mem_.put<uint64_t>(data_pa(prb + 16), infos);
  mem_.put<uint64_t>(data_pa(prb + 24), head_id);
  mem_.put<uint64_t>(data_pa(prb + 32), tail_id);
  mem_.put<uint32_t>(data_pa(prb + 48), size_bits);
  mem_.put<uint64_t>(data_pa(prb + 56), data);
}

std::string SyntheticKernel::vmcoreinfo() const {
  char buf[256];
  std::string s = "OSRELEASE=6.1.0-synthetic\nPAGESIZE=4096\nKERNELOFFSET=0\nNUMBER(phys_base)=0\n";
  std::snprintf(buf, sizeof buf, "SYMBOL(init_top_pgt)=%llx\nSYMBOL(prb)=%llx\nNUMBER(pgtable_l5_enabled)=%d\n",
                static_cast<unsigned long long>(kTopPgtVa), static_cast<unsigned long long>(prb_pointer_va()),
                levels_ == 5 ? 1 : 0);
  s += buf;
  s +=
      "OFFSET(printk_ringbuffer.desc_ring)=0\nOFFSET(printk_ringbuffer.text_data_ring)=48\n"
      "OFFSET(prb_desc_ring.count_bits)=0\nOFFSET(prb_desc_ring.descs)=8\nOFFSET(prb_desc_ring.infos)=16\n"
      "OFFSET(prb_desc_ring.head_id)=24\nOFFSET(prb_desc_ring.tail_id)=32\nOFFSET(atomic_long_t.counter)=0\n"
      "SIZE(prb_desc)=24\nOFFSET(prb_desc.state_var)=0\nOFFSET(prb_desc.text_blk_lpos)=8\n"
      "OFFSET(prb_data_blk_lpos.begin)=0\nOFFSET(prb_data_blk_lpos.next)=8\nSIZE(printk_info)=88\n"
      "OFFSET(printk_info.seq)=0\nOFFSET(printk_info.ts_nsec)=8\nOFFSET(printk_info.text_len)=16\n"
      "OFFSET(printk_info.caller_id)=20\nOFFSET(prb_data_ring.size_bits)=0\nOFFSET(prb_data_ring.data)=8\n";
  return s;
}

}  // namespace coroner::testing
