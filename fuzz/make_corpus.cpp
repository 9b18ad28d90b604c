// Writes the fuzzer's seed corpus: a small synthetic kernel with a log, in every dump format.
#include <cstdio>
#include <fstream>
#include <string>

#include "../tests/support/dump_builder.hpp"

using namespace coroner;
using namespace coroner::testing;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
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
