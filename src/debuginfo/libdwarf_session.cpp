#include "coroner/debuginfo/libdwarf_session.hpp"

#include <libdwarf/dwarf.h>
#include <libdwarf/libdwarf.h>

namespace coroner {

namespace {

// libdwarf's object-access interface over DwarfSections: section i+1 is sections.all()[i]
// (libdwarf expects index 0 to be the ELF null section).
struct ObjectAccess {
  const DwarfSections* sections;

  static int section_info(void* obj, Dwarf_Half index, Dwarf_Obj_Access_Section* out, int* error) {
    auto* self = static_cast<ObjectAccess*>(obj);
    *out = {};
    if (index == 0) {
      out->name = "";
      return DW_DLV_OK;
    }
    const auto& all = self->sections->all();
    if (index > all.size()) {
      *error = DW_DLE_MDE;
      return DW_DLV_ERROR;
    }
    const ElfSection& s = all[index - 1];
    out->addr = s.address;
    out->type = s.type;
    out->size = s.bytes.size();
    out->name = s.name.data();  // NUL-terminated: it points into the ELF section-name table
    out->link = s.link;
    out->info = s.info;
    out->entrysize = s.entsize;
    return DW_DLV_OK;
  }
  static Dwarf_Endianness byte_order(void*) { return DW_OBJECT_LSB; }
  static Dwarf_Small length_size(void*) { return 4; }
  static Dwarf_Small pointer_size(void*) { return 8; }
  static Dwarf_Unsigned section_count(void* obj) {
    return static_cast<ObjectAccess*>(obj)->sections->all().size() + 1;
  }
  static int load_section(void* obj, Dwarf_Half index, Dwarf_Small** data, int* error) {
    auto* self = static_cast<ObjectAccess*>(obj);
    const auto& all = self->sections->all();
    if (index == 0 || index > all.size()) {
      *error = DW_DLE_MDE;
      return DW_DLV_ERROR;
    }
    if (all[index - 1].bytes.empty()) return DW_DLV_NO_ENTRY;
    // libdwarf only reads section data; the map is read-only and stays so.
    *data = const_cast<Dwarf_Small*>(all[index - 1].bytes.data());
    return DW_DLV_OK;
  }
};

const Dwarf_Obj_Access_Methods kMethods = {
    ObjectAccess::section_info, ObjectAccess::byte_order,    ObjectAccess::length_size,
    ObjectAccess::pointer_size, ObjectAccess::section_count, ObjectAccess::load_section,
    nullptr,  // vmlinux is linked, and a module's sections come relocated (DwarfSections)
};

}  // namespace

struct LibdwarfSession::Impl {
  ObjectAccess access;
  Dwarf_Obj_Access_Interface interface{};
  Dwarf_Debug dbg = nullptr;
  bool opened = false;
};

LibdwarfSession::LibdwarfSession(const DwarfSections& sections) : impl_(std::make_unique<Impl>()) {
  impl_->access.sections = &sections;
  impl_->interface.object = &impl_->access;
  impl_->interface.methods = &kMethods;
}

LibdwarfSession::~LibdwarfSession() {
  if (impl_->dbg) dwarf_object_finish(impl_->dbg, nullptr);
}

void* LibdwarfSession::handle() const {
  if (!impl_->opened) {
    impl_->opened = true;
    Dwarf_Error err = nullptr;
    if (dwarf_object_init_b(&impl_->interface, nullptr, nullptr, DW_GROUPNUMBER_ANY, &impl_->dbg, &err) != DW_DLV_OK) {
      impl_->dbg = nullptr;
    }
  }
  return impl_->dbg;
}

}  // namespace coroner
