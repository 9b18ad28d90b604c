#include "coroner/debuginfo/dwarf_sections.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "coroner/dump/byte_source.hpp"

namespace coroner {

Result<std::unique_ptr<DwarfSections>> DwarfSections::open(const std::string& path) {
  std::unique_ptr<DwarfSections> s(new DwarfSections());
  auto st = s->load(path);
  if (!st) return st.error();
  return s;
}

DwarfSections::~DwarfSections() {
  if (elf_) elf_end(elf_);
  if (fd_ >= 0) ::close(fd_);
}

Status DwarfSections::load(const std::string& path) {
  path_ = path;
  elf_version(EV_CURRENT);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return make_error(path + ": cannot open: " + std::strerror(errno));
  elf_ = elf_begin(fd_, ELF_C_READ_MMAP, nullptr);
  if (!elf_ || elf_kind(elf_) != ELF_K_ELF || gelf_getclass(elf_) != ELFCLASS64) {
    return make_error(path + ": not a 64-bit ELF file; give the kernel's vmlinux with debug info");
  }
  size_t image_size = 0;
  const auto* image = reinterpret_cast<const uint8_t*>(elf_rawfile(elf_, &image_size));
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf_, &shstrndx) != 0) return make_error(path + ": no section name table");
  for (Elf_Scn* scn = elf_nextscn(elf_, nullptr); scn; scn = elf_nextscn(elf_, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    const char* name = elf_strptr(elf_, shstrndx, sh.sh_name);
    ElfSection section{name ? name : "", sh.sh_addr, sh.sh_type, sh.sh_link, sh.sh_info, sh.sh_entsize, {}};
    if (sh.sh_type != SHT_NOBITS && image && in_bounds(sh.sh_offset, sh.sh_size, image_size)) {
      section.bytes = {image + sh.sh_offset, static_cast<size_t>(sh.sh_size)};
    }
    sections_.push_back(section);
  }
  if (get(".debug_info").empty()) {
    return make_error(path + ": has no .debug_info; install the kernel's debug package (linux-image-*-dbg)");
  }
  return ok_status();
}

std::span<const uint8_t> DwarfSections::get(std::string_view name) const {
  for (const auto& s : sections_) {
    if (s.name == name) return s.bytes;
  }
  return {};
}

}  // namespace coroner
