#pragma once
// x86-64 ORC unwind tables: `.orc_unwind_ip` (32-bit offsets relative to each entry, sorted) and
// `.orc_unwind` (6-byte entries), from the vmlinux and from each module's copy in memory. The
// entry's bit layout changed in Linux 6.4 (a 3-bit type with UNDEFINED and END_OF_STACK); the
// layout is read from the kernel's own DWARF for struct orc_entry when it is there.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::x86_64 {

enum class OrcReg : uint8_t { undefined = 0, prev_sp = 1, dx = 2, di = 3, bp = 4, sp = 5, r10 = 6, r13 = 7, bp_indirect = 8, sp_indirect = 9 };
enum class OrcType : uint8_t { undefined, end_of_stack, call, regs, regs_partial };

struct OrcEntry {
  int16_t sp_offset = 0, bp_offset = 0;
  OrcReg sp_reg = OrcReg::undefined, bp_reg = OrcReg::undefined;
  OrcType type = OrcType::undefined;
  bool end = false;  // pre-6.4: the last frame of a kernel thread or entry
  bool signal = false;
};

// Where the bit fields sit in the 16 bits after the two offsets (bit offsets from bit 32).
struct OrcLayout {
  uint32_t sp_reg_bit = 0, bp_reg_bit = 4, type_bit = 8, type_bits = 2;
  int end_bit = 10, signal_bit = -1;  // -1: absent
};

OrcEntry decode_orc_entry(const uint8_t* six_bytes, const OrcLayout& layout);

// One text region's table: `ips` sorted ascending, run-time addresses.
struct OrcTable {
  std::string owner;  // "vmlinux" or a module name
  // The text it covers, [start, end) each; by default its first to last ip. A module has two while
  // its init code is loaded.
  std::vector<std::pair<uint64_t, uint64_t>> text;
  bool covers(uint64_t ip) const;
  std::vector<uint64_t> ips;
  std::vector<OrcEntry> entries;
};

// Builds a table from the raw sections: `ip_bytes` at run-time address `ip_section_address`.
OrcTable make_orc_table(std::string owner, std::span<const uint8_t> ip_bytes, uint64_t ip_section_address,
                        std::span<const uint8_t> entry_bytes, const OrcLayout& layout);

class OrcIndex {
 public:
  void add(OrcTable table) { tables_.push_back(std::move(table)); }
  // The entry covering `ip`: the last table entry at or below it, as the kernel's orc_find().
  const OrcEntry* find(uint64_t ip) const;
  bool empty() const { return tables_.empty(); }
  bool has(std::string_view owner) const;
  size_t entry_count() const;

 private:
  std::vector<OrcTable> tables_;
};

}  // namespace coroner::x86_64
