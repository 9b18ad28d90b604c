#include "coroner/dump/notes.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "coroner/format.hpp"

namespace coroner {
namespace {

constexpr uint32_t kNtFile = 0x46494c45;  // "FILE"
// struct elf_prstatus on x86-64.
constexpr size_t kPrStatusSize = 336;
constexpr size_t kPrStatusPid = 32;
constexpr size_t kPrStatusCursig = 12;
constexpr size_t kPrStatusRegs = 112;
// QEMUCPUState: version, size, 16 GPRs, rip, rflags, 10 segments of 24 bytes, cr[5].
constexpr size_t kQemuRip = 8 + 16 * 8;
constexpr size_t kQemuRflags = kQemuRip + 8;
constexpr size_t kQemuSegments = kQemuRflags + 8;
constexpr size_t kQemuSegmentSize = 24;
constexpr size_t kQemuGsBase = kQemuSegments + 4 * kQemuSegmentSize + 16;  // gs is the 5th segment
constexpr size_t kQemuIdtBase = kQemuSegments + 9 * kQemuSegmentSize + 16;  // idt is the 10th
constexpr size_t kQemuCr = kQemuSegments + 10 * kQemuSegmentSize;
constexpr size_t kQemuKernelGsBase = kQemuCr + 5 * 8;

template <class T>
T load(std::span<const uint8_t> bytes, size_t offset) {
  T v{};
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

std::string c_string(std::span<const uint8_t> bytes) {
  auto nul = std::find(bytes.begin(), bytes.end(), uint8_t{0});
  return std::string(bytes.begin(), nul);
}

bool parse_prstatus(std::span<const uint8_t> desc, DumpNotes& notes) {
  if (desc.size() < kPrStatusSize) return false;
  PrStatus pr;
  pr.pid = load<int32_t>(desc, kPrStatusPid);
  pr.signal = load<int16_t>(desc, kPrStatusCursig);
  for (int i = 0; i < kRegCount; ++i) pr.regs[i] = load<uint64_t>(desc, kPrStatusRegs + 8 * i);
  notes.prstatus.push_back(pr);
  return true;
}

bool parse_qemu_cpu(std::span<const uint8_t> desc, DumpNotes& notes) {
  if (desc.size() < kQemuCr + 5 * 8) return false;
  QemuCpuState cpu;
  cpu.rip = load<uint64_t>(desc, kQemuRip);
  cpu.rsp = load<uint64_t>(desc, 8 + 6 * 8);
  cpu.rflags = load<uint64_t>(desc, kQemuRflags);
  cpu.gs_base = load<uint64_t>(desc, kQemuGsBase);
  cpu.idt_base = load<uint64_t>(desc, kQemuIdtBase);
  for (size_t i = 0; i < 5; ++i) cpu.cr[i] = load<uint64_t>(desc, kQemuCr + 8 * i);
  if (desc.size() >= kQemuKernelGsBase + 8) cpu.kernel_gs_base = load<uint64_t>(desc, kQemuKernelGsBase);
  notes.qemu_cpus.push_back(cpu);
  return true;
}

bool parse_nt_file(std::span<const uint8_t> desc, DumpNotes& notes) {
  if (desc.size() < 16) return false;
  uint64_t count = load<uint64_t>(desc, 0);
  uint64_t page_size = load<uint64_t>(desc, 8);
  if (count > (desc.size() - 16) / 24) return false;
  size_t names = 16 + count * 24;
  for (uint64_t i = 0; i < count; ++i) {
    MappedFileNote f;
    f.start = load<uint64_t>(desc, 16 + i * 24);
    f.end = load<uint64_t>(desc, 16 + i * 24 + 8);
    f.file_offset = load<uint64_t>(desc, 16 + i * 24 + 16) * page_size;
    if (names >= desc.size()) return false;
    f.path = c_string(desc.subspan(names));
    names += f.path.size() + 1;
    notes.files.push_back(std::move(f));
  }
  return true;
}

bool parse_prpsinfo(std::span<const uint8_t> desc, DumpNotes& notes) {
  // struct elf_prpsinfo on x86-64: pr_pid at 24, pr_fname[16] at 40, pr_psargs[80] at 56.
  if (desc.size() < 136) return false;
  PrPsInfo info;
  info.pid = load<int32_t>(desc, 24);
  info.fname = c_string(desc.subspan(40, 16));
  info.args = c_string(desc.subspan(56, 80));
  notes.prpsinfo = info;
  return true;
}

}  // namespace

const char* reg_name(Reg r) {
  static const char* const names[kRegCount] = {
      "r15", "r14", "r13", "r12", "rbp", "rbx", "r11",     "r10",     "r9", "r8", "rax", "rcx", "rdx", "rsi",
      "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
  return names[static_cast<int>(r)];
}

void parse_notes(std::span<const uint8_t> blob, const std::string& where, uint64_t blob_offset,
                 DumpNotes& notes) {
  auto align4 = [](uint64_t n) { return (n + 3) & ~uint64_t{3}; };
  uint64_t pos = 0;
  while (pos + sizeof(Elf64_Nhdr) <= blob.size()) {
    auto hdr = load<Elf64_Nhdr>(blob, pos);
    uint64_t name_at = pos + sizeof(Elf64_Nhdr);
    uint64_t desc_at = name_at + align4(hdr.n_namesz);
    uint64_t next = desc_at + align4(hdr.n_descsz);
    if (hdr.n_namesz == 0 && hdr.n_descsz == 0 && hdr.n_type == 0) break;  // zero padding
    if (desc_at > blob.size() || hdr.n_descsz > blob.size() - desc_at) {
      notes.problems.push_back(where + ": offset " + hex(blob_offset + pos) +
                               ": note runs past the end of its segment; later notes ignored");
      return;
    }
    std::string name = c_string(blob.subspan(name_at, hdr.n_namesz));
    auto desc = blob.subspan(desc_at, hdr.n_descsz);
    bool parsed = true;
    if (name == "CORE" && hdr.n_type == NT_PRSTATUS) {
      parsed = parse_prstatus(desc, notes);
    } else if (name == "CORE" && hdr.n_type == NT_PRPSINFO) {
      parsed = parse_prpsinfo(desc, notes);
    } else if (name == "CORE" && hdr.n_type == kNtFile) {
      parsed = parse_nt_file(desc, notes);
    } else if (name == "QEMU") {
      parsed = parse_qemu_cpu(desc, notes);
    } else if (name == "VMCOREINFO") {
      notes.vmcoreinfo.assign(reinterpret_cast<const char*>(desc.data()), desc.size());
      notes.vmcoreinfo = notes.vmcoreinfo.c_str();  // the kernel pads the note with NULs
    }
    if (!parsed) {
      notes.problems.push_back(where + ": offset " + hex(blob_offset + pos) + ": " + name +
                               " note of type " + std::to_string(hdr.n_type) + " is too short (" +
                               std::to_string(hdr.n_descsz) + " bytes)");
    }
    pos = next;
  }
}

}  // namespace coroner
