#include "coroner/dump/elf_core.hpp"

#include <elf.h>

#include <algorithm>
#include <numeric>

#include "coroner/format.hpp"

namespace coroner {

bool ElfCore::is_elf(const ByteSource& src) {
  uint8_t ident[SELFMAG];
  return src.read(0, ident) && std::memcmp(ident, ELFMAG, SELFMAG) == 0;
}

Result<std::unique_ptr<ElfCore>> ElfCore::open(std::shared_ptr<const ByteSource> file) {
  std::unique_ptr<ElfCore> core(new ElfCore(std::move(file)));
  auto st = core->load_program_headers();
  if (!st) return st.error();
  core->describe_producer();
  return core;
}

Status ElfCore::load_program_headers() {
  const ByteSource& f = *file_;
  auto ehdr = f.read_value<Elf64_Ehdr>(0);
  if (!ehdr) return f.error_at(0, "ELF header is truncated: " + ehdr.error().message);
  if (ehdr->e_ident[EI_CLASS] != ELFCLASS64) {
    return f.error_at(EI_CLASS, "only 64-bit ELF cores are supported (EI_CLASS is " +
                                    std::to_string(ehdr->e_ident[EI_CLASS]) + ")");
  }
  if (ehdr->e_ident[EI_DATA] != ELFDATA2LSB) {
    return f.error_at(EI_DATA, "only little-endian ELF cores are supported");
  }
  if (ehdr->e_type != ET_CORE) {
    return f.error_at(16, "ELF type " + std::to_string(ehdr->e_type) +
                              " is not ET_CORE; is this a vmlinux given where the dump belongs?");
  }
  if (ehdr->e_phentsize != sizeof(Elf64_Phdr)) {
    return f.error_at(54, "program header size " + std::to_string(ehdr->e_phentsize) +
                              " is not " + std::to_string(sizeof(Elf64_Phdr)));
  }
  uint64_t phnum = ehdr->e_phnum;
  if (phnum == PN_XNUM) {  // QEMU writes this when there are many segments: count in shdr 0.
    auto sh0 = f.read_value<Elf64_Shdr>(ehdr->e_shoff);
    if (!sh0) return f.error_at(ehdr->e_shoff, "e_phnum is PN_XNUM but section header 0 is unreadable");
    phnum = sh0->sh_info;
  }
  if (phnum > f.size() / sizeof(Elf64_Phdr)) {
    return f.error_at(ehdr->e_phoff, std::to_string(phnum) + " program headers cannot fit in the file");
  }
  header_.format = "ELF core";
  header_.compression = "none";
  for (uint64_t i = 0; i < phnum; ++i) {
    uint64_t at = ehdr->e_phoff + i * sizeof(Elf64_Phdr);
    auto ph = f.read_value<Elf64_Phdr>(at);
    if (!ph) return f.error_at(at, "program header " + std::to_string(i) + " is truncated");
    if (ph->p_type == PT_LOAD) {
      segments_.push_back({ph->p_offset, ph->p_vaddr, ph->p_paddr, ph->p_filesz, ph->p_memsz});
    } else if (ph->p_type == PT_NOTE) {
      auto bytes = f.read_bytes(ph->p_offset, ph->p_filesz);
      if (!bytes) {
        notes_.problems.push_back(f.name() + ": offset " + hex(ph->p_offset) +
                                  ": PT_NOTE segment is unreadable (" + bytes.error().message + ")");
        continue;
      }
      parse_notes(*bytes, f.name(), ph->p_offset, notes_);
    }
  }
  by_paddr_ = index_by(&LoadSegment::paddr);
  by_vaddr_ = index_by(&LoadSegment::vaddr);
  ranges_ = physical_union([](const LoadSegment& s) { return s.mem_size; });
  has_virtual_ = std::any_of(segments_.begin(), segments_.end(),
                             [](const LoadSegment& s) { return s.vaddr != 0; });
  return ok_status();
}

void ElfCore::describe_producer() {
  if (!notes_.qemu_cpus.empty()) {
    header_.producer = DumpProducer::qemu;
  } else if (!notes_.vmcoreinfo.empty()) {
    header_.producer = DumpProducer::proc_vmcore;
  } else if (!notes_.files.empty() || notes_.prpsinfo) {
    header_.producer = DumpProducer::user_space;
  }
  if (!notes_.prstatus.empty() && header_.producer != DumpProducer::user_space) {
    header_.cpu_count = static_cast<int>(notes_.prstatus.size());
  }
}

ElfCore::SegmentIndex ElfCore::index_by(uint64_t LoadSegment::*key) const {
  SegmentIndex index;
  index.key = key;
  index.order.resize(segments_.size());
  std::iota(index.order.begin(), index.order.end(), 0);
  std::sort(index.order.begin(), index.order.end(),
            [&](size_t a, size_t b) { return segments_[a].*key < segments_[b].*key; });
  uint64_t reach = 0;
  for (size_t i : index.order) {
    const LoadSegment& s = segments_[i];
    reach = std::max(reach, s.*key + std::min(s.mem_size, ~uint64_t{0} - s.*key));
    index.reach.push_back(reach);
  }
  return index;
}

const LoadSegment* ElfCore::segment_at(const SegmentIndex& index, uint64_t at) const {
  // Back from the last segment starting at or below `at`, while an earlier one could still reach it.
  auto it = std::upper_bound(index.order.begin(), index.order.end(), at,
                             [&](uint64_t a, size_t i) { return a < segments_[i].*index.key; });
  for (auto pos = static_cast<size_t>(it - index.order.begin()); pos > 0 && index.reach[pos - 1] > at; --pos) {
    const LoadSegment& s = segments_[index.order[pos - 1]];
    if (at - s.*index.key < s.mem_size) return &s;
  }
  return nullptr;
}

Status ElfCore::read_by(const SegmentIndex& index, uint64_t addr, std::span<uint8_t> out, const char* space,
                        bool streaming) const {
  const auto key = index.key;
  uint64_t done = 0;
  while (done < out.size()) {
    uint64_t at = addr + done;
    const LoadSegment* seg = segment_at(index, at);
    if (!seg) {
      return make_error(path_ + ": " + space + " address " + hex(at) + " is not in any PT_LOAD segment",
                        ErrorKind::not_in_dump);
    }
    uint64_t within = at - seg->*key;
    uint64_t n = std::min<uint64_t>(out.size() - done, seg->mem_size - within);
    if (within >= seg->file_size) {
      return make_error(path_ + ": " + space + " address " + hex(at) +
                            " is past its segment's file size (the writer left it out)",
                        ErrorKind::not_in_dump);
    }
    n = std::min(n, seg->file_size - within);
    uint64_t file_at = seg->file_offset + within;
    if (!in_bounds(file_at, n, file_->size())) {
      return make_error(path_ + ": " + space + " address " + hex(at) + " maps to file offset " +
                            hex(file_at) + ", past the end of the file (" + hex(file_->size()) +
                            " bytes): the dump is truncated",
                        ErrorKind::not_in_dump);
    }
    auto st = streaming ? file_->read_streaming(file_at, out.subspan(done, n)) : file_->read(file_at, out.subspan(done, n));
    if (!st) return st;
    done += n;
  }
  return ok_status();
}

Status ElfCore::read_physical(uint64_t paddr, std::span<uint8_t> out) const {
  return read_by(by_paddr_, paddr, out, "physical");
}

Status ElfCore::read_physical_once(uint64_t paddr, std::span<uint8_t> out) const {
  return read_by(by_paddr_, paddr, out, "physical", true);
}

std::vector<PhysicalRange> ElfCore::physical_union(const std::function<uint64_t(const LoadSegment&)>& bytes_of) const {
  std::vector<PhysicalRange> out;
  for (size_t i : by_paddr_.order) {
    const LoadSegment& s = segments_[i];
    uint64_t end = s.paddr + std::min(bytes_of(s), ~uint64_t{0} - s.paddr);
    if (!out.empty() && s.paddr <= out.back().start + out.back().size) {
      out.back().size = std::max(out.back().size, end - out.back().start);
    } else {
      out.push_back({s.paddr, end - s.paddr});
    }
  }
  return out;
}

std::vector<PhysicalRange> ElfCore::held_ranges() const {
  return physical_union([&](const LoadSegment& s) {
    uint64_t in_file = s.file_offset < file_->size() ? file_->size() - s.file_offset : 0;
    return std::min({s.mem_size, s.file_size, in_file});
  });
}

Status ElfCore::read_segment_virtual(uint64_t vaddr, std::span<uint8_t> out) const {
  return read_by(by_vaddr_, vaddr, out, "virtual");
}

}  // namespace coroner
