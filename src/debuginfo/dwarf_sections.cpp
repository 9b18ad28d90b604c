#include "coroner/debuginfo/dwarf_sections.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "coroner/debuginfo/elf_symbols.hpp"
#include "coroner/dump/byte_source.hpp"

namespace coroner {

Result<std::unique_ptr<DwarfSections>> DwarfSections::open(const std::string& path,
                                                           const SectionPlacement& placement) {
  std::unique_ptr<DwarfSections> s(new DwarfSections());
  s->placement_ = placement;
  auto st = s->load(path);
  if (!st) return st.error();
  return s;
}

std::unique_ptr<DwarfSections> DwarfSections::in_memory(std::string description, std::vector<ElfSection> sections) {
  std::unique_ptr<DwarfSections> s(new DwarfSections());
  s->path_ = std::move(description);
  s->sections_ = std::move(sections);
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
    if (!gelf_getshdr(scn, &sh)) {
      sections_.emplace_back();  // keeps sections_[i] as ELF section i + 1
      continue;
    }
    const char* name = elf_strptr(elf_, shstrndx, sh.sh_name);
    ElfSection section{name ? name : "", sh.sh_addr, sh.sh_type, sh.sh_link, sh.sh_info, sh.sh_entsize, {}};
    if (auto placed = placement_.find(section.name); placed != placement_.end()) section.address = placed->second;
    if (sh.sh_type != SHT_NOBITS && image && in_bounds(sh.sh_offset, sh.sh_size, image_size)) {
      section.bytes = {image + sh.sh_offset, static_cast<size_t>(sh.sh_size)};
    }
    sections_.push_back(section);
  }
  if (get(".debug_info").empty()) {
    return make_error(path + ": has no .debug_info; install the kernel's debug package (linux-image-*-dbg)");
  }
  GElf_Ehdr eh;
  relocatable_ = gelf_getehdr(elf_, &eh) && eh.e_type == ET_REL;
  return relocatable_ ? relocate_debug_sections() : ok_status();
}

Status DwarfSections::relocate_debug_sections() {
  for (size_t i = 0; i < sections_.size(); ++i) {
    ElfSection& s = sections_[i];
    if (!s.name.starts_with(".debug_") || s.bytes.empty()) continue;
    // Section i of sections_ is ELF section i + 1 (elf_nextscn skips the null section).
    auto relocations = resolve_relocations(elf_, i + 1, placement_, path_);
    if (!relocations) return relocations.error();
    if (relocations->empty()) continue;
    auto& copy = relocated_.emplace_back(s.bytes.begin(), s.bytes.end());
    auto st = apply_relocations(copy, *relocations, path_ + ": " + std::string(s.name));
    if (!st) return st;
    s.bytes = copy;
  }
  return ok_status();
}

Result<std::vector<ResolvedRelocation>> DwarfSections::relocations(std::string_view section) const {
  for (size_t i = 0; i < sections_.size(); ++i) {
    if (sections_[i].name == section) return resolve_relocations(elf_, i + 1, placement_, path_);
  }
  return make_error(path_ + ": no section " + std::string(section));
}

std::string DwarfSections::build_id() const { return gnu_build_id(elf_); }

std::span<const uint8_t> DwarfSections::get(std::string_view name) const {
  for (const auto& s : sections_) {
    if (s.name == name) return s.bytes;
  }
  return {};
}

}  // namespace coroner
