#include "coroner/dump/dump.hpp"

#include "coroner/dump/elf_core.hpp"
#include "coroner/dump/flattened_source.hpp"
#include "coroner/dump/kdump_compressed.hpp"
#include "coroner/format.hpp"

namespace coroner {

const char* producer_name(DumpProducer p) {
  switch (p) {
    case DumpProducer::unknown: return "unknown";
    case DumpProducer::qemu: return "QEMU dump-guest-memory";
    case DumpProducer::proc_vmcore: return "kdump (/proc/vmcore)";
    case DumpProducer::makedumpfile: return "makedumpfile";
    case DumpProducer::user_space: return "user-space core";
  }
  return "?";
}

uint64_t Dump::physical_memory_size() const {
  uint64_t total = 0;
  for (const auto& r : ranges_) total += r.size;
  return total;
}

Status Dump::read_segment_virtual(uint64_t vaddr, std::span<uint8_t>) const {
  return make_error(path_ + ": this dump has no virtual-address segments (reading " + hex(vaddr) + ")");
}

Result<std::unique_ptr<Dump>> open_dump(std::shared_ptr<const ByteSource> file) {
  std::string container = "file";
  if (FlattenedSource::is_flattened(*file)) {
    auto flat = FlattenedSource::open(file);
    if (!flat) return flat.error();
    file = std::shared_ptr<const ByteSource>(std::move(*flat));
    container = "makedumpfile flattened stream";
  }
  std::unique_ptr<Dump> dump;
  if (KdumpCompressed::is_kdump(*file)) {
    auto d = KdumpCompressed::open(file);
    if (!d) return d.error();
    dump = std::move(*d);
  } else if (ElfCore::is_elf(*file)) {
    auto d = ElfCore::open(file);
    if (!d) return d.error();
    dump = std::move(*d);
  } else {
    return make_error(file->name() +
                      ": offset 0x0: not a crash dump coroner knows (expected an ELF core, a "
                      "kdump-compressed file \"KDUMP   \" or a makedumpfile flattened stream)");
  }
  dump->set_container(container);
  return dump;
}

Result<std::unique_ptr<Dump>> open_dump(const std::string& path) {
  auto file = MappedFile::open(path);
  if (!file) return file.error();
  return open_dump(std::shared_ptr<const ByteSource>(std::move(*file)));
}

}  // namespace coroner
