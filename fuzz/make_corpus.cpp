// Writes the fuzzers' seed corpora: a small synthetic kernel with a log, in every dump format (DIR);
// and for the debug-table fuzzer (TABLES_DIR) a small BTF made with libbpf's writer and a memory
// image holding kallsyms tables of two symbols.
#include <bpf/btf.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

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
