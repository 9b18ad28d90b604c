#include "coroner/dump/kdump_compressed.hpp"

#include <bit>

#include "coroner/format.hpp"

namespace coroner {

using namespace kdump_format;

namespace {

PageCodec codec_of(uint32_t flags) {
  if (flags & kCompressedZlib) return PageCodec::zlib;
  if (flags & kCompressedLzo) return PageCodec::lzo;
  if (flags & kCompressedSnappy) return PageCodec::snappy;
  if (flags & kCompressedZstd) return PageCodec::zstd;
  return PageCodec::none;
}

std::string header_compression(uint32_t status) {
  std::string names;
  for (auto [flag, name] : {std::pair{kCompressedZlib, "zlib"}, {kCompressedLzo, "lzo"},
                            {kCompressedSnappy, "snappy"}, {kCompressedZstd, "zstd"}}) {
    if (status & flag) names += names.empty() ? name : std::string("+") + name;
  }
  return names.empty() ? "none" : names;
}

std::string fixed_string(const char* field, size_t size) {
  return std::string(field, strnlen(field, size));
}

}  // namespace

bool KdumpCompressed::is_kdump(const ByteSource& src) {
  char sig[8];
  if (!src.read(0, {reinterpret_cast<uint8_t*>(sig), sizeof sig})) return false;
  return std::memcmp(sig, kSignature, sizeof sig) == 0;
}

Result<std::unique_ptr<KdumpCompressed>> KdumpCompressed::open(std::shared_ptr<const ByteSource> file) {
  std::unique_ptr<KdumpCompressed> dump(new KdumpCompressed(std::move(file)));
  auto st = dump->load();
  if (!st) return st.error();
  return dump;
}

Status KdumpCompressed::load() {
  const ByteSource& f = *file_;
  auto hdr = f.read_value<DiskDumpHeader>(0);
  if (!hdr) return f.error_at(0, "disk_dump_header is truncated");
  block_size_ = static_cast<uint64_t>(hdr->block_size);
  if (hdr->block_size < 512 || hdr->block_size > (1 << 20) || !std::has_single_bit(block_size_)) {
    return f.error_at(offsetof(DiskDumpHeader, block_size),
                      "block_size " + std::to_string(hdr->block_size) + " is not a sane page size");
  }
  if (hdr->sub_hdr_size < 0 || hdr->header_version < 0) {
    return f.error_at(offsetof(DiskDumpHeader, sub_hdr_size), "negative sub header size or version");
  }
  KdumpSubHeader sub{};
  auto sub_bytes = f.read_bytes(block_size_, std::min<uint64_t>(sizeof sub, uint64_t(hdr->sub_hdr_size) * block_size_));
  if (!sub_bytes) return f.error_at(block_size_, "kdump_sub_header is truncated");
  if (!sub_bytes->empty()) std::memcpy(&sub, sub_bytes->data(), sub_bytes->size());

  max_mapnr_ = hdr->header_version >= 6 ? sub.max_mapnr_64 : hdr->max_mapnr;
  header_.format = "kdump-compressed";
  header_.producer = DumpProducer::makedumpfile;
  header_.compression = header_compression(hdr->status);
  header_.incomplete = (hdr->status & kCompressedIncomplete) != 0;
  header_.crashing_cpu = static_cast<int>(hdr->current_cpu);
  if (hdr->nr_cpus > 0) header_.cpu_count = hdr->nr_cpus;
  if (hdr->timestamp_sec > 0) header_.timestamp = hdr->timestamp_sec;
  std::string release = fixed_string(hdr->utsname[2], 65);
  if (!release.empty()) header_.release = release;
  if (hdr->header_version >= 1) {
    header_.phys_base = sub.phys_base;
    header_.dump_level = sub.dump_level;
  }

  uint64_t bitmap_offset = block_size_ * (1 + uint64_t(hdr->sub_hdr_size));
  uint64_t bitmap_bytes = block_size_ * uint64_t(hdr->bitmap_blocks);
  auto st = load_bitmaps(bitmap_offset, bitmap_bytes);
  if (!st) return st;
  descs_offset_ = bitmap_offset + bitmap_bytes;
  load_notes(sub, hdr->header_version);
  if (!notes_.qemu_cpus.empty()) header_.producer = DumpProducer::qemu;
  return ok_status();
}

Status KdumpCompressed::load_bitmaps(uint64_t bitmap_offset, uint64_t bitmap_bytes) {
  const ByteSource& f = *file_;
  if (max_mapnr_ == 0 || max_mapnr_ > (uint64_t{1} << 52)) {  // 2^52 pages: x86-64's physical limit
    return f.error_at(0, "max_mapnr " + std::to_string(max_mapnr_) + " is not a possible number of pages");
  }
  if (!in_bounds(bitmap_offset, bitmap_bytes, f.size())) {
    return f.error_at(bitmap_offset, "page bitmaps of " + std::to_string(bitmap_bytes) +
                                         " bytes run past the end of the file: the dump is truncated or corrupt");
  }
  uint64_t half = bitmap_bytes / 2;
  uint64_t needed = (max_mapnr_ + 7) / 8;
  if (needed > half) {
    return f.error_at(bitmap_offset, "bitmaps of " + std::to_string(half) + " bytes each cannot describe " +
                                         std::to_string(max_mapnr_) + " pages (max_mapnr)");
  }
  uint64_t words = (max_mapnr_ + 63) / 64;
  present_.assign(words, 0);
  saved_.assign(words, 0);
  for (auto [bitmap, at] : {std::pair{&present_, bitmap_offset}, {&saved_, bitmap_offset + half}}) {
    auto st = f.read(at, {reinterpret_cast<uint8_t*>(bitmap->data()), needed});
    if (!st) return f.error_at(at, "page bitmap is truncated: " + st.error().message);
    if (max_mapnr_ % 64) bitmap->back() &= (uint64_t{1} << (max_mapnr_ % 64)) - 1;
  }
  rank_.reserve(words / 8 + 1);
  uint64_t count = 0;
  for (uint64_t w = 0; w < words; ++w) {
    if (w % 8 == 0) rank_.push_back(count);
    count += std::popcount(saved_[w]);
  }
  saved_pages_ = count;
  // Physical ranges: runs of present pages.
  uint64_t run_start = 0;
  bool in_run = false;
  for (uint64_t pfn = 0; pfn <= max_mapnr_; ++pfn) {
    if (pfn < max_mapnr_ && pfn % 64 == 0 && pfn + 64 <= max_mapnr_) {
      uint64_t word = present_[pfn / 64];
      if ((in_run && word == ~uint64_t{0}) || (!in_run && word == 0)) {
        pfn += 63;
        continue;
      }
    }
    bool here = pfn < max_mapnr_ && bit(present_, pfn);
    if (here && !in_run) {
      run_start = pfn;
      in_run = true;
    } else if (!here && in_run) {
      ranges_.push_back({run_start * block_size_, (pfn - run_start) * block_size_});
      in_run = false;
    }
  }
  return ok_status();
}

void KdumpCompressed::load_notes(const KdumpSubHeader& sub, int header_version) {
  const ByteSource& f = *file_;
  if (header_version >= 4 && sub.size_note > 0) {
    auto bytes = f.read_bytes(sub.offset_note, sub.size_note);
    if (bytes) {
      parse_notes(*bytes, f.name(), sub.offset_note, notes_);
    } else {
      notes_.problems.push_back("notes unreadable: " + bytes.error().message);
    }
  }
  if (header_version >= 3 && sub.size_vmcoreinfo > 0 && notes_.vmcoreinfo.empty()) {
    auto bytes = f.read_bytes(sub.offset_vmcoreinfo, sub.size_vmcoreinfo);
    if (bytes) {
      notes_.vmcoreinfo.assign(bytes->begin(), bytes->end());
      notes_.vmcoreinfo = notes_.vmcoreinfo.c_str();
    } else {
      notes_.problems.push_back("VMCOREINFO unreadable: " + bytes.error().message);
    }
  }
}

bool KdumpCompressed::bit(const std::vector<uint64_t>& bitmap, uint64_t pfn) const {
  return (bitmap[pfn / 64] >> (pfn % 64)) & 1;
}

uint64_t KdumpCompressed::rank(uint64_t pfn) const {
  uint64_t word = pfn / 64;
  uint64_t count = rank_[word / 8];
  for (uint64_t w = word - word % 8; w < word; ++w) count += std::popcount(saved_[w]);
  uint64_t below = pfn % 64;
  if (below) count += std::popcount(saved_[word] & ((uint64_t{1} << below) - 1));
  return count;
}

Status KdumpCompressed::decode_page(uint64_t pfn, std::span<uint8_t> out) const {
  const ByteSource& f = *file_;
  uint64_t desc_at = descs_offset_ + rank(pfn) * sizeof(PageDesc);
  auto desc = f.read_value<PageDesc>(desc_at);
  if (!desc) {
    return make_error(f.name() + ": page descriptor of pfn " + hex(pfn) + " at offset " + hex(desc_at) +
                          " is past the end of the file: the dump is truncated",
                      ErrorKind::not_in_dump);
  }
  if (desc->size == 0 || desc->size > block_size_ * 2 || !in_bounds(desc->offset, desc->size, f.size())) {
    ErrorKind kind = in_bounds(desc->offset, 0, f.size()) ? ErrorKind::failed : ErrorKind::not_in_dump;
    return make_error(f.name() + ": page descriptor at offset " + hex(desc_at) + " (pfn " + hex(pfn) +
                          ") points at " + std::to_string(desc->size) + " bytes at offset " +
                          hex(desc->offset) + ", outside the file (" + hex(f.size()) + " bytes)",
                      kind);
  }
  PageCodec codec = codec_of(desc->flags);
  std::vector<uint8_t> copy;
  auto in = f.view(desc->offset, desc->size);
  if (in.empty()) {
    auto bytes = f.read_bytes(desc->offset, desc->size);
    if (!bytes) return bytes.error();
    copy = std::move(*bytes);
    in = copy;
  }
  auto st = decompress_page(codec, in, out);
  if (!st) {
    return make_error(f.name() + ": offset " + hex(desc->offset) + ": page of pfn " + hex(pfn) + ": " +
                      st.error().message);
  }
  return ok_status();
}

std::vector<PhysicalRange> KdumpCompressed::held_ranges() const {
  const uint64_t descriptors = descs_offset_ < file_->size() ? (file_->size() - descs_offset_) / sizeof(PageDesc) : 0;
  std::vector<PhysicalRange> out;
  auto add = [&](uint64_t pfn, uint64_t pages) {
    if (!out.empty() && out.back().start + out.back().size == pfn * block_size_) {
      out.back().size += pages * block_size_;
    } else {
      out.push_back({pfn * block_size_, pages * block_size_});
    }
  };
  uint64_t held = 0;  // saved pages so far: the next one's descriptor index
  for (uint64_t word = 0; word < saved_.size() && held < descriptors; ++word) {
    uint64_t bits = saved_[word];
    if (bits == ~uint64_t{0} && present_[word] == ~uint64_t{0} && held + 64 <= descriptors &&
        (word + 1) * 64 <= max_mapnr_) {
      add(word * 64, 64);
      held += 64;
      continue;
    }
    for (; bits && held < descriptors; bits &= bits - 1, ++held) {
      uint64_t pfn = word * 64 + static_cast<uint64_t>(std::countr_zero(bits));
      if (pfn >= max_mapnr_) return out;
      if (bit(present_, pfn)) add(pfn, 1);
    }
  }
  return out;
}

Status KdumpCompressed::page_in_dump(uint64_t pfn) const {
  if (pfn >= max_mapnr_) {
    return make_error(path_ + ": physical address " + hex(pfn * block_size_) +
                          " is beyond the memory the dump describes (" + std::to_string(max_mapnr_) + " pages)",
                      ErrorKind::not_in_dump);
  }
  if (!bit(present_, pfn)) {
    return make_error(path_ + ": physical address " + hex(pfn * block_size_) +
                          " is a hole in the memory map (no RAM there)",
                      ErrorKind::not_in_dump);
  }
  if (!bit(saved_, pfn)) {
    std::string level = header_.dump_level ? " (dump level " + std::to_string(*header_.dump_level) + ")" : "";
    return make_error(path_ + ": physical page " + hex(pfn * block_size_) +
                          " was excluded from the dump by makedumpfile" + level,
                      ErrorKind::not_in_dump);
  }
  return ok_status();
}

Result<const std::vector<uint8_t>*> KdumpCompressed::page(uint64_t pfn) const {
  if (auto st = page_in_dump(pfn); !st) return st.error();
  if (auto it = cache_.find(pfn); it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return &it->second->second;
  }
  std::vector<uint8_t> bytes;
  if (lru_.size() >= kCachedPages) {
    bytes = std::move(lru_.back().second);  // reuse the evicted page's buffer
    cache_.erase(lru_.back().first);
    lru_.pop_back();
  }
  bytes.resize(block_size_);
  auto st = decode_page(pfn, bytes);
  if (!st) return st.error();
  lru_.emplace_front(pfn, std::move(bytes));
  cache_[pfn] = lru_.begin();
  return &lru_.front().second;
}

Status KdumpCompressed::read_physical(uint64_t paddr, std::span<uint8_t> out) const {
  std::lock_guard lock(cache_mutex_);  // page() hands out cache entries that the copy must outlive
  uint64_t done = 0;
  while (done < out.size()) {
    uint64_t at = paddr + done;
    if (at < paddr) return make_error(path_ + ": physical read wraps around", ErrorKind::not_in_dump);
    auto pg = page(at / block_size_);
    if (!pg) return pg.error();
    uint64_t within = at % block_size_;
    uint64_t n = std::min<uint64_t>(out.size() - done, block_size_ - within);
    std::memcpy(out.data() + done, (*pg)->data() + within, n);
    done += n;
  }
  return ok_status();
}

Status KdumpCompressed::read_physical_once(uint64_t paddr, std::span<uint8_t> out) const {
  if (out.empty()) return ok_status();
  const uint64_t last = paddr + (out.size() - 1);
  if (last < paddr) return make_error(path_ + ": physical read wraps around", ErrorKind::not_in_dump);
  // Every page is checked before any is decoded: a pass asks for many pages at once and, when one
  // is missing, again page by page.
  for (uint64_t pfn = paddr / block_size_; pfn <= last / block_size_; ++pfn) {
    if (auto st = page_in_dump(pfn); !st) return st;
  }
  std::vector<uint8_t> part;  // for a page only partly wanted
  for (uint64_t done = 0; done < out.size();) {
    uint64_t at = paddr + done, pfn = at / block_size_, within = at % block_size_;
    uint64_t n = std::min<uint64_t>(out.size() - done, block_size_ - within);
    if (n == block_size_) {
      if (auto st = decode_page(pfn, out.subspan(done, n)); !st) return st;
    } else {
      part.resize(block_size_);
      if (auto st = decode_page(pfn, part); !st) return st;
      std::memcpy(out.data() + done, part.data() + within, n);
    }
    done += n;
  }
  return ok_status();
}

}  // namespace coroner
