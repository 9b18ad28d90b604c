// Writes the fuzzers' seed corpora: a small synthetic kernel with a log, in every dump format (DIR);
// and for the debug-table fuzzer (TABLES_DIR) a small BTF made with libbpf's writer and a memory
// image holding kallsyms tables of two symbols.
#include <bpf/btf.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../tests/support/dump_builder.hpp"

using namespace coroner;
using namespace coroner::testing;

namespace {

void write_file(const std::string& path, const Bytes& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// fuzz_debug_tables' BTF input: an odd first byte, then the BTF.
Bytes btf_seed() {
  struct btf* b = btf__new_empty();
  int i = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
  int c = btf__add_int(b, "char", 1, BTF_INT_SIGNED | BTF_INT_CHAR);
  int s = btf__add_struct(b, "task_struct", 24);
  btf__add_field(b, "pid", i, 0, 0);
  btf__add_field(b, "flags", i, 32, 3);
  btf__add_field(b, "comm", btf__add_array(b, i, c, 16), 64, 0);
  btf__add_ptr(b, s);
  btf__add_enum(b, "e", 4);
  btf__add_enum_value(b, "TASK_COMM_LEN", 16);
  btf__add_typedef(b, "pid_t", i);
  btf__add_fwd(b, "later", BTF_FWD_STRUCT);
  uint32_t size = 0;
  const auto* raw = static_cast<const uint8_t*>(btf__raw_data(b, &size));
  Bytes out{1};
  out.insert(out.end(), raw, raw + size);
  btf__free(b);
  return out;
}

// fuzz_debug_tables' kallsyms input: an even first byte, seven offsets (names, num_syms, token
// table, token index, offsets, relative base, and the value of _stext), then the image: each token
// is one character, and the two symbols are "T_stext" and "t_etext".
Bytes kallsyms_seed() {
  Bytes image(0x1100, 0);
  auto put64 = [&](size_t at, uint64_t v) { std::memcpy(image.data() + at, &v, 8); };
  put64(0, 2);                                // kallsyms_num_syms
  put64(8, 0xffffffff81000000ull + 0x1000);   // kallsyms_relative_base
  int32_t offsets[2] = {0, 0x10};
  std::memcpy(image.data() + 16, offsets, sizeof offsets);
  for (int t = 0; t < 256; ++t) {
    image[32 + 2 * t] = static_cast<uint8_t>(t);  // token t is the character t
    uint16_t index = static_cast<uint16_t>(2 * t);
    std::memcpy(image.data() + 544 + 2 * t, &index, 2);
  }
  size_t at = 1100;
  for (const char* name : {"T_stext", "t_etext"}) {
    image[at++] = static_cast<uint8_t>(std::strlen(name));
    for (const char* p = name; *p; ++p) image[at++] = static_cast<uint8_t>(*p);
  }
  uint64_t header[7] = {1100, 0, 32, 544, 16, 8, 0x1000};
  Bytes out{0};
  out.insert(out.end(), reinterpret_cast<const uint8_t*>(header), reinterpret_cast<const uint8_t*>(header) + sizeof header);
  out.insert(out.end(), image.begin(), image.end());
  return out;
}

// fuzz_debug_tables' DWARF input: a first byte of 2, then a DWARF 5 range list of each kind.
Bytes dwarf_tables_seed() {
  return {2, 0x04, 0x10, 0x20, 0x05, 0, 0x90, 0, 0, 0, 0, 0, 0, 0x01, 0x01, 0x03, 0x00, 0x40, 0x07,
          0, 0x70, 0, 0, 0, 0, 0, 0, 0x10, 0x00};
}

// fuzz_debug_tables' DWARF input as a DWARF 5 line program: a directory and a file table by their
// entry formats, a row at an address set by an extended opcode, the end of its sequence.
Bytes dwarf_line_program_seed() {
  return {2, 0x3d, 0, 0, 0, 5, 0, 8, 0, 0x24, 0, 0, 0, 1, 1, 1, 0xfb, 14, 13, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1,
          1, 0x01, 0x08, 1, '/', 'd', 0, 2, 0x01, 0x08, 0x02, 0x0b, 1, 'a', '.', 'c', 0, 0,
          0, 9, 2, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 1, 1};
}


// fuzz_debug_tables' DWARF DIE input: a first byte of 4, then .debug_abbrev, .debug_str and
// .debug_line each after a 32-bit length, four empty sections (str_offsets, addr, rnglists,
// line_str), and .debug_info: one DWARF 5 unit with a struct (members, a bit field, a pointer to
// itself), a typedef, an enumeration, an array, a function with a frame base and a local, and a
// global variable.
Bytes dwarf_info_seed() {
  enum : uint8_t { kNo = 0, kYes = 1 };
  Bytes abbrev;
  auto declare = [&](uint8_t code, uint8_t tag, uint8_t children, std::initializer_list<uint8_t> attributes) {
    abbrev.insert(abbrev.end(), {code, tag, children});
    abbrev.insert(abbrev.end(), attributes);
    abbrev.insert(abbrev.end(), {0, 0});
  };
  // Attribute/form pairs (DW_AT_*, DW_FORM_*), every value below 0x80 so one LEB128 byte each.
  declare(1, 0x11, kYes, {0x03, 0x0e, 0x1b, 0x0e, 0x10, 0x17, 0x11, 0x01, 0x12, 0x07});  // compile_unit
  declare(2, 0x13, kYes, {0x03, 0x0e, 0x0b, 0x0b});                                      // structure_type
  declare(3, 0x0d, kNo, {0x03, 0x0e, 0x49, 0x13, 0x38, 0x0b});                          // member
  declare(4, 0x24, kNo, {0x03, 0x0e, 0x0b, 0x0b, 0x3e, 0x0b});                          // base_type
  declare(5, 0x0f, kNo, {0x0b, 0x0b, 0x49, 0x13});                                      // pointer_type
  declare(6, 0x16, kNo, {0x03, 0x0e, 0x49, 0x13});                                      // typedef
  declare(7, 0x04, kYes, {0x03, 0x0e, 0x0b, 0x0b, 0x49, 0x13});                         // enumeration_type
  declare(8, 0x28, kNo, {0x03, 0x0e, 0x1c, 0x0d});                                      // enumerator
  declare(9, 0x2e, kYes, {0x03, 0x0e, 0x11, 0x01, 0x12, 0x07, 0x40, 0x18});             // subprogram
  declare(10, 0x34, kNo, {0x03, 0x0e, 0x49, 0x13, 0x02, 0x18});                         // variable
  declare(11, 0x01, kYes, {0x49, 0x13});                                                // array_type
  declare(12, 0x21, kNo, {0x2f, 0x0b});                                                 // subrange_type
  declare(13, 0x0d, kNo, {0x03, 0x0e, 0x49, 0x13, 0x0d, 0x0b, 0x6b, 0x0b});             // bit-field member
  abbrev.push_back(0);

  Bytes str;
  std::map<std::string, uint32_t> at;
  for (const char* s : {"a.c", "/build", "task_struct", "pid", "next", "comm", "flags", "int", "char", "pid_t",
                        "task_state", "RUNNING", "DEAD", "schedule", "prev", "init_task"}) {
    at[s] = static_cast<uint32_t>(str.size());
    str.insert(str.end(), s, s + std::strlen(s) + 1);
  }

  Bytes info = {0, 0, 0, 0, 5, 0, 1, 8, 0, 0, 0, 0};  // unit length (below), v5, DW_UT_compile, 8-byte addresses
  std::map<std::string, uint32_t> die;                 // offsets in the unit, for DW_FORM_ref4
  std::vector<std::pair<size_t, std::string>> refs;
  auto u8 = [&](uint8_t v) { info.push_back(v); };
  auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) info.push_back(static_cast<uint8_t>(v >> (8 * i))); };
  auto u64 = [&](uint64_t v) { for (int i = 0; i < 8; ++i) info.push_back(static_cast<uint8_t>(v >> (8 * i))); };
  auto name = [&](const char* s) { u32(at.at(s)); };
  auto ref = [&](const std::string& to) { refs.emplace_back(info.size(), to), u32(0); };
  auto label = [&](const std::string& l) { die[l] = static_cast<uint32_t>(info.size()); };

  u8(1), name("a.c"), name("/build"), u32(0), u64(0xffffffff81000000ull), u64(0x100);
  label("int"), u8(4), name("int"), u8(4), u8(5);
  label("char"), u8(4), name("char"), u8(1), u8(6);
  label("task"), u8(2), name("task_struct"), u8(32);
  u8(3), name("pid"), ref("pid_t"), u8(0);
  u8(13), name("flags"), ref("int"), u8(4), u8(32 + 3);
  u8(3), name("next"), ref("task*"), u8(8);
  u8(3), name("comm"), ref("comm"), u8(16);
  u8(0);
  label("task*"), u8(5), u8(8), ref("task");
  label("pid_t"), u8(6), name("pid_t"), ref("int");
  label("comm"), u8(11), ref("char"), u8(12), u8(15), u8(0);
  u8(7), name("task_state"), u8(4), ref("int");
  u8(8), name("RUNNING"), u8(0), u8(8), name("DEAD"), u8(0x7f);
  u8(0);
  u8(9), name("schedule"), u64(0xffffffff81000010ull), u64(0x40), u8(1), u8(0x9c);  // frame base: DW_OP_call_frame_cfa
  u8(10), name("prev"), ref("task*"), u8(2), u8(0x91), u8(0x70);                     // DW_OP_fbreg -16
  u8(0);
  u8(10), name("init_task"), ref("task"), u8(9), u8(0x03), u64(0xffffffff82000000ull);  // DW_OP_addr
  u8(0);
  for (const auto& [where, to] : refs) {
    for (int i = 0; i < 4; ++i) info[where + i] = static_cast<uint8_t>(die.at(to) >> (8 * i));
  }
  const uint32_t length = static_cast<uint32_t>(info.size() - 4);
  for (int i = 0; i < 4; ++i) info[i] = static_cast<uint8_t>(length >> (8 * i));

  Bytes line = dwarf_line_program_seed();
  line.erase(line.begin());
  Bytes out{4};
  for (const Bytes* section : {&abbrev, &str, &line}) {
    const uint32_t n = static_cast<uint32_t>(section->size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
    out.insert(out.end(), section->begin(), section->end());
  }
  out.insert(out.end(), 16, 0);
  out.insert(out.end(), info.begin(), info.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s DIR [TABLES_DIR]\n", argv[0]);
    return 2;
  }
  if (argc == 3) {
    write_file(std::string(argv[2]) + "/btf", btf_seed());
    write_file(std::string(argv[2]) + "/kallsyms", kallsyms_seed());
    write_file(std::string(argv[2]) + "/dwarf-tables", dwarf_tables_seed());
    write_file(std::string(argv[2]) + "/dwarf-line-program", dwarf_line_program_seed());
    write_file(std::string(argv[2]) + "/dwarf-info", dwarf_info_seed());
  }
  SyntheticKernel k(4);
  k.write_log({{1, "Linux version 6.1.0-fuzz (a@b) (gcc) #1"}, {2, "Kernel panic - not syncing: fuzz"}}, 3, 8);
  std::string vi = k.vmcoreinfo();
  Bytes notes = build_notes({{1, 0, 0, 0}}, vi, {0x10000});
  const uint64_t pages = SyntheticKernel::kDataPa / kPage + 1;  // through the kernel data page
  auto write = [&](const std::string& name, const Bytes& b) {
    std::ofstream(std::string(argv[1]) + "/" + name, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  };
  // Only the pages that hold something: page tables, the ring, kernel data.
  write("elf", build_elf_core(k.memory(),
                              {{0, 0x20000}, {SyntheticKernel::kRingPa, 4 * kPage}, {SyntheticKernel::kDataPa, kPage}},
                              notes));
  for (PageCodec c : {PageCodec::zlib, PageCodec::lzo, PageCodec::snappy, PageCodec::zstd}) {
    KdumpOptions o;
    o.codec = c;
    Bytes kd = build_kdump(k.memory(), pages, notes, vi, o);
    write(std::string("kdump-") + codec_name(c), kd);
    if (c == PageCodec::zlib) write("flat", flatten(kd, 8192));
  }
  return 0;
}
