// libFuzzer target: bytes as the tables a dump without its vmlinux is read from. An odd first byte:
// the rest is BTF, parsed by libbpf, every type built and its members laid out. A first byte of 2:
// the rest is every DWARF table decoded in place that the DIE reader does not reach (line
// programs, .debug_aranges, range lists). A first byte of 4: the rest is a vmlinux's DWARF
// sections, indexed, read DIE by DIE and built into types as the commands do. Another even one: the
// rest is a memory image holding kallsyms tables, placed by the first 56 bytes (six offsets and
// _stext's). It may refuse the input; it must not crash.
#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/debuginfo/dwarf_dies.hpp"
#include "coroner/debuginfo/dwarf_sections.hpp"
#include "coroner/debuginfo/dwarf_ranges.hpp"
#include "coroner/debuginfo/kallsyms.hpp"
#include "coroner/debuginfo/line_program.hpp"

namespace {

using namespace coroner;

constexpr uint64_t kImageBase = 0xffffffff81000000ull;

void fuzz_btf(std::span<const uint8_t> bytes) {
  auto btf = BtfTypes::parse(bytes);
  if (!btf) return;
  uint32_t count = std::min<uint32_t>((*btf)->count(), 4096);
  auto debug = DebugInfo::from_btf(std::move(*btf), "fuzz input");
  for (uint32_t id = 1; id < count; ++id) {
    auto t = debug->type_at(id);
    if (!t) continue;
    (void)type_name(*t);
    for (const Member& m : debug->members(*t)) (void)declaration(m.type, m.name);
    (void)debug->member_at(*t, 8);
  }
  (void)debug->find_type("struct task_struct");
  (void)debug->find_enumerator("TASK_COMM_LEN");
}

void fuzz_kallsyms(std::span<const uint8_t> bytes) {
  uint64_t at[7] = {};
  if (bytes.size() < sizeof at) return;
  std::memcpy(at, bytes.data(), sizeof at);
  std::span<const uint8_t> image = bytes.subspan(sizeof at);
  auto place = [&](uint64_t v) { return kImageBase + (image.empty() ? 0 : v % image.size()); };
  KallsymsTables t{place(at[0]), place(at[1]), place(at[2]), place(at[3]), place(at[4]), place(at[5])};
  MemoryReader memory = [&](uint64_t address, std::span<uint8_t> out) -> Status {
    if (address < kImageBase || address - kImageBase > image.size() || out.size() > image.size() - (address - kImageBase)) {
      return make_error("outside the image");
    }
    std::memcpy(out.data(), image.data() + (address - kImageBase), out.size());
    return ok_status();
  };
  auto k = Kallsyms::read(t, memory, place(at[6]));
  if (!k) return;
  (void)(*k)->describe(kImageBase + 16);
  (void)(*k)->in_code(kImageBase);
}

void fuzz_dwarf_tables(std::span<const uint8_t> bytes) {
  (void)dwarf::read_address_ranges(bytes);
  (void)dwarf::decode_line_program({bytes, bytes, bytes}, 0, "/build");
  uint64_t base = bytes.size() >= 8 ? bytes[7] : 0;
  auto addrx = [&](uint64_t i) -> std::optional<uint64_t> {
    return i < bytes.size() ? std::optional<uint64_t>(bytes[i]) : std::nullopt;
  };
  for (uint8_t size : {4, 8}) {
    (void)dwarf::read_range_list(bytes, 0, size, base);
    (void)dwarf::read_rnglist(bytes, 0, size, base, addrx);
    if (auto at = dwarf::rnglist_offset(bytes, 12, base, size)) (void)dwarf::read_rnglist(bytes, *at, size, base, addrx);
  }
}

// The sections before .debug_info, each after its 32-bit length; .debug_info is the rest.
constexpr const char* kLeadingSections[] = {".debug_abbrev",  ".debug_str",      ".debug_line",    ".debug_str_offsets",
                                            ".debug_addr",    ".debug_rnglists", ".debug_line_str"};

std::vector<ElfSection> split_sections(std::span<const uint8_t> bytes) {
  std::vector<ElfSection> out;
  auto section = [&](const char* name, std::span<const uint8_t> b) {
    out.push_back({name, 0, SHT_PROGBITS, 0, 0, 0, b});
  };
  for (const char* name : kLeadingSections) {
    uint32_t length = 0;
    if (bytes.size() >= sizeof length) {
      std::memcpy(&length, bytes.data(), sizeof length);
      bytes = bytes.subspan(sizeof length);
    }
    auto b = bytes.first(std::min<size_t>(length, bytes.size()));
    section(name, b);
    bytes = bytes.subspan(b.size());
  }
  section(".debug_info", bytes);
  return out;
}

// What the commands ask of one DIE: its type built and named, its members laid out, and by its
// name the lookups `struct`, `p` and the frame-variable rules make.
void use_die(DebugInfo& debug, const DieFacts& die) {
  if (auto t = debug.type_at(die.offset)) {
    (void)type_name(*t);
    for (const Member& m : debug.members(*t)) (void)declaration(m.type, m.name);
    (void)debug.member_at(*t, 4);
    (void)debug.find_member_path(*t, "next.comm[3]");
  }
  if (die.name.empty()) return;
  (void)debug.find_type(die.name);
  (void)debug.find_type("struct " + die.name + " *");
  (void)debug.find_variable(die.name);
  (void)debug.find_enumerator(die.name);
  (void)debug.frame_layout(die.name);
  if (die.static_address) (void)debug.source_line(*die.static_address);
}

void fuzz_dwarf_info(std::span<const uint8_t> bytes) {
  auto debug = DebugInfo::from_sections(DwarfSections::in_memory("fuzz input", split_sections(bytes)), 1);
  if (!debug) return;
  const DieReader& dies = *(*debug)->dies();
  std::vector<uint64_t> pending;  // DIEs whose children are still to read, breadth first
  for (const auto& unit : dies.units()) {
    (void)dies.unit_ranges(unit.offset);
    if (auto u = dies.read_unit(unit.offset)) pending.push_back(u->offset);
  }
  size_t budget = 2048;  // DIEs used: an input stays a fraction of a second
  for (size_t i = 0; i < pending.size() && budget > 0; ++i) {
    auto children = dies.children(pending[i]);
    if (!children) continue;
    for (const DieFacts& c : *children) {
      if (budget-- == 0) break;
      use_die(**debug, c);
      if (c.has_children) pending.push_back(c.offset);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::span<const uint8_t> rest(data + 1, size - 1);
  if (data[0] & 1) fuzz_btf(rest);
  else if (data[0] == 2) fuzz_dwarf_tables(rest);
  else if (data[0] == 4) fuzz_dwarf_info(rest);
  else fuzz_kallsyms(rest);
  return 0;
}
