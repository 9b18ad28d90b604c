#include "coroner/debuginfo/elf_symbols.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "coroner/dump/byte_source.hpp"
#include "coroner/format.hpp"

namespace coroner {

Result<std::unique_ptr<ElfSymbols>> ElfSymbols::open(const std::string& path) {
  std::unique_ptr<ElfSymbols> syms(new ElfSymbols());
  auto st = syms->load(path);
  if (!st) return st.error();
  return syms;
}

ElfSymbols::~ElfSymbols() {
  if (elf_) elf_end(elf_);
  if (fd_ >= 0) ::close(fd_);
}

Status ElfSymbols::load(const std::string& path) {
  path_ = path;
  source_ = path;
  elf_version(EV_CURRENT);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return make_error(path + ": cannot open: " + std::strerror(errno));
  elf_ = elf_begin(fd_, ELF_C_READ_MMAP, nullptr);
  if (!elf_ || elf_kind(elf_) != ELF_K_ELF) {
    return make_error(path + ": not an ELF file (" + elf_errmsg(-1) + "); give the kernel's vmlinux");
  }
  image_ = elf_rawfile(elf_, &image_size_);
  auto st = load_symbols();
  if (!st) return st;
  load_build_id();
  return ok_status();
}

Status ElfSymbols::load_symbols() {
  Elf_Scn* symtab = nullptr;
  size_t strtab_index = 0;
  for (Elf_Scn* scn = elf_nextscn(elf_, nullptr); scn; scn = elf_nextscn(elf_, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    if (sh.sh_type == SHT_SYMTAB) {
      symtab = scn;
      strtab_index = sh.sh_link;
    }
    if ((sh.sh_flags & SHF_ALLOC) && sh.sh_type == SHT_PROGBITS && in_bounds(sh.sh_offset, sh.sh_size, image_size_)) {
      sections_.push_back({sh.sh_addr, sh.sh_size, sh.sh_offset});
      if (sh.sh_flags & SHF_EXECINSTR) add_code_range(sh.sh_addr, sh.sh_addr + sh.sh_size);
    }
  }
  if (!symtab) return make_error(path_ + ": has no symbol table (.symtab); is it stripped? Use the -dbg vmlinux");
  Elf_Data* data = elf_getdata(symtab, nullptr);
  if (!data) return make_error(path_ + ": cannot read .symtab: " + elf_errmsg(-1));
  GElf_Shdr sh;
  gelf_getshdr(symtab, &sh);
  size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
  for (size_t i = 0; i < n; ++i) {
    GElf_Sym sym;
    if (!gelf_getsym(data, static_cast<int>(i), &sym)) continue;
    int type = GELF_ST_TYPE(sym.st_info);
    if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE) continue;
    if (sym.st_shndx == SHN_UNDEF) continue;
    const char* name = elf_strptr(elf_, strtab_index, sym.st_name);
    if (!name || !*name) continue;
    add({sym.st_value, sym.st_size, name, type == STT_FUNC, GELF_ST_BIND(sym.st_info) == STB_GLOBAL});
  }
  index();
  return ok_status();
}

std::string gnu_build_id(Elf* elf) {
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data) continue;
    GElf_Nhdr nhdr;
    size_t pos = 0, name_at = 0, desc_at = 0;
    while ((pos = gelf_getnote(data, pos, &nhdr, &name_at, &desc_at)) > 0) {
      const char* base = static_cast<const char*>(data->d_buf);
      if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 && std::memcmp(base + name_at, "GNU", 4) == 0) {
        std::string out;
        for (size_t i = 0; i < nhdr.n_descsz; ++i) {
          char buf[3];
          std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned char>(base[desc_at + i]));
          out += buf;
        }
        return out;
      }
    }
  }
  return "";
}

void ElfSymbols::load_build_id() { build_id_ = gnu_build_id(elf_); }

bool same_build_id(const std::string& a, const std::string& b) {
  return !a.empty() && !b.empty() && (a.starts_with(b) || b.starts_with(a));
}

std::string elf_build_id(const std::string& path) {
  elf_version(EV_CURRENT);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  std::string id = elf && elf_kind(elf) == ELF_K_ELF ? gnu_build_id(elf) : "";
  if (elf) elf_end(elf);
  ::close(fd);
  return id;
}

Result<std::string_view> ElfSymbols::file_bytes(uint64_t link_address, uint64_t length) const {
  for (const Section& s : sections_) {
    if (link_address >= s.address && in_bounds(link_address - s.address, length, s.size)) {
      return std::string_view(image_ + s.file_offset + (link_address - s.address), length);
    }
  }
  return make_error(path_ + ": no section holds " + std::to_string(length) + " bytes at " + hex(link_address));
}

}  // namespace coroner
