#pragma once
// ELF notes a dump carries: registers per CPU or thread, VMCOREINFO, QEMU's CPU state, and the
// NT_FILE / NT_PRPSINFO notes of user-space cores.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace coroner {

// x86-64 user_regs_struct order, as in NT_PRSTATUS's pr_reg.
enum class Reg : int {
  r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax,
  rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs,
};
constexpr int kRegCount = 27;
const char* reg_name(Reg r);

struct PrStatus {
  int pid = 0;
  int signal = 0;
  std::array<uint64_t, kRegCount> regs{};
  uint64_t reg(Reg r) const { return regs[static_cast<int>(r)]; }
};

// QEMU's per-CPU "QEMU" note (QEMUCPUState): what NT_PRSTATUS lacks, the control registers.
struct QemuCpuState {
  uint64_t rip = 0, rsp = 0, rflags = 0;
  std::array<uint64_t, 5> cr{};
  uint64_t idt_base = 0;
  uint64_t gs_base = 0;
  uint64_t kernel_gs_base = 0;
};

struct MappedFileNote {
  uint64_t start = 0, end = 0, file_offset = 0;
  std::string path;
};

struct PrPsInfo {
  int pid = 0;
  std::string fname;
  std::string args;
};

struct DumpNotes {
  std::vector<PrStatus> prstatus;
  std::vector<QemuCpuState> qemu_cpus;
  std::string vmcoreinfo;
  std::vector<MappedFileNote> files;
  std::optional<PrPsInfo> prpsinfo;
  std::vector<std::string> problems;  // notes that were present but malformed
};

// Parses a PT_NOTE segment (or kdump's note area) into `notes`; malformed notes are recorded as
// problems naming `where` and the offset, never thrown.
void parse_notes(std::span<const uint8_t> blob, const std::string& where, uint64_t blob_offset,
                 DumpNotes& notes);

}  // namespace coroner
