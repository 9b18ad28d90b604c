// Writes the fuzzers' seed corpora: a small synthetic kernel with a log, in every dump format (DIR);
// and for the debug-table fuzzer (TABLES_DIR) a small BTF made with libbpf's writer and a memory
// image holding kallsyms tables of two symbols.
#include <bpf/btf.h>
#include <libdwarf/dwarf.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "../tests/support/dump_builder.hpp"
#include "../tests/support/dwarf_builder.hpp"

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
  DwarfUnitBuilder u;
  u.abbrev(1, DW_TAG_compile_unit, true, {{DW_AT_name, DW_FORM_strp}, {DW_AT_comp_dir, DW_FORM_strp},
                                          {DW_AT_stmt_list, DW_FORM_sec_offset}, {DW_AT_low_pc, DW_FORM_addr},
                                          {DW_AT_high_pc, DW_FORM_data8}});
  u.abbrev(2, DW_TAG_structure_type, true, {{DW_AT_name, DW_FORM_strp}, {DW_AT_byte_size, DW_FORM_data1}});
  u.abbrev(3, DW_TAG_member, false, {{DW_AT_name, DW_FORM_strp}, {DW_AT_type, DW_FORM_ref4},
                                     {DW_AT_data_member_location, DW_FORM_data1}});
  u.abbrev(4, DW_TAG_base_type, false, {{DW_AT_name, DW_FORM_strp}, {DW_AT_byte_size, DW_FORM_data1},
                                        {DW_AT_encoding, DW_FORM_data1}});
  u.abbrev(5, DW_TAG_pointer_type, false, {{DW_AT_byte_size, DW_FORM_data1}, {DW_AT_type, DW_FORM_ref4}});
  u.abbrev(6, DW_TAG_typedef, false, {{DW_AT_name, DW_FORM_strp}, {DW_AT_type, DW_FORM_ref4}});
  u.abbrev(7, DW_TAG_enumeration_type, true, {{DW_AT_name, DW_FORM_strp}, {DW_AT_byte_size, DW_FORM_data1},
                                              {DW_AT_type, DW_FORM_ref4}});
  u.abbrev(8, DW_TAG_enumerator, false, {{DW_AT_name, DW_FORM_strp}, {DW_AT_const_value, DW_FORM_sdata}});
  u.abbrev(9, DW_TAG_subprogram, true, {{DW_AT_name, DW_FORM_strp}, {DW_AT_low_pc, DW_FORM_addr},
                                        {DW_AT_high_pc, DW_FORM_data8}, {DW_AT_frame_base, DW_FORM_exprloc}});
  u.abbrev(10, DW_TAG_variable, false, {{DW_AT_name, DW_FORM_strp}, {DW_AT_type, DW_FORM_ref4},
                                        {DW_AT_location, DW_FORM_exprloc}});
  u.abbrev(11, DW_TAG_array_type, true, {{DW_AT_type, DW_FORM_ref4}});
  u.abbrev(12, DW_TAG_subrange_type, false, {{DW_AT_upper_bound, DW_FORM_data1}});
  u.abbrev(13, DW_TAG_member, false, {{DW_AT_name, DW_FORM_strp}, {DW_AT_type, DW_FORM_ref4},
                                      {DW_AT_bit_size, DW_FORM_data1}, {DW_AT_data_bit_offset, DW_FORM_data1}});

  u.die(1).strp("a.c").strp("/build").u32(0).u64(0xffffffff81000000ull).u64(0x100);
  u.label("int"), u.die(4).strp("int").u8(4).u8(DW_ATE_signed);
  u.label("char"), u.die(4).strp("char").u8(1).u8(DW_ATE_signed_char);
  u.label("task"), u.die(2).strp("task_struct").u8(32);
  u.die(3).strp("pid").ref("pid_t").u8(0);
  u.die(13).strp("flags").ref("int").u8(4).u8(32 + 3);
  u.die(3).strp("next").ref("task*").u8(8);
  u.die(3).strp("comm").ref("comm").u8(16);
  u.end_children();
  u.label("task*"), u.die(5).u8(8).ref("task");
  u.label("pid_t"), u.die(6).strp("pid_t").ref("int");
  u.label("comm"), u.die(11).ref("char"), u.die(12).u8(15), u.end_children();
  u.die(7).strp("task_state").u8(4).ref("int");
  u.die(8).strp("RUNNING").u8(0), u.die(8).strp("DEAD").u8(0x7f);
  u.end_children();
  u.die(9).strp("schedule").u64(0xffffffff81000010ull).u64(0x40).exprloc({DW_OP_call_frame_cfa});
  u.die(10).strp("prev").ref("task*").exprloc({DW_OP_fbreg, 0x70});  // -16
  u.end_children();
  u.die(10).strp("init_task").ref("task").exprloc({DW_OP_addr, 0, 0, 0, 0x82, 0xff, 0xff, 0xff, 0xff});
  u.end_children();
  auto dwarf = u.finish();

  Bytes line = dwarf_line_program_seed();
  line.erase(line.begin());
  Bytes out{4};
  for (const Bytes* section : {&dwarf.abbrev, &dwarf.str, &line}) {
    const uint32_t n = static_cast<uint32_t>(section->size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
    out.insert(out.end(), section->begin(), section->end());
  }
  out.insert(out.end(), 16, 0);
  out.insert(out.end(), dwarf.info.begin(), dwarf.info.end());
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
