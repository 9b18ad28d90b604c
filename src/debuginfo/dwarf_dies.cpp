#include "coroner/debuginfo/dwarf_dies.hpp"

#include <libdwarf/dwarf.h>
#include <libdwarf/libdwarf.h>

#include <cstring>

#include "coroner/debuginfo/dwarf_units.hpp"
#include "coroner/format.hpp"

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
    nullptr,  // vmlinux is linked: its .rela.debug_* are already applied
};

struct DieDeleter {
  void operator()(Dwarf_Die d) const { dwarf_dealloc_die(d); }
};
using DieHandle = std::unique_ptr<std::remove_pointer_t<Dwarf_Die>, DieDeleter>;
struct AttrDeleter {
  void operator()(Dwarf_Attribute a) const { dwarf_dealloc_attribute(a); }
};
using AttrHandle = std::unique_ptr<std::remove_pointer_t<Dwarf_Attribute>, AttrDeleter>;

// An attribute's DWARF expression (DW_FORM_exprloc, block1), or nothing.
std::span<const uint8_t> expression(Dwarf_Attribute attr, Dwarf_Error* err) {
  Dwarf_Unsigned length = 0;
  Dwarf_Ptr bytes = nullptr;
  if (dwarf_formexprloc(attr, &length, &bytes, err) != DW_DLV_OK || !bytes) return {};
  return {static_cast<const uint8_t*>(bytes), static_cast<size_t>(length)};
}

// The one operand after an expression's single operation `op`, as LEB128.
std::optional<int64_t> single_operand(std::span<const uint8_t> e, uint8_t op, bool is_signed) {
  if (e.size() < 2 || e[0] != op) return std::nullopt;
  dwarf::Cursor c(e.subspan(1));
  int64_t v = is_signed ? c.sleb() : static_cast<int64_t>(c.uleb());
  return c.ok() && c.at_end() ? std::optional(v) : std::nullopt;
}

// Member locations older compilers wrote as an expression: DW_OP_plus_uconst N.
std::optional<uint64_t> plus_uconst(std::span<const uint8_t> e) {
  auto v = single_operand(e, DW_OP_plus_uconst, false);
  return v ? std::optional(static_cast<uint64_t>(*v)) : std::nullopt;
}

// A variable's location when it is a fixed address: exactly DW_OP_addr A.
std::optional<uint64_t> single_address(std::span<const uint8_t> e) {
  if (e.size() != 9 || e[0] != DW_OP_addr) return std::nullopt;
  uint64_t address = 0;
  std::memcpy(&address, e.data() + 1, sizeof address);
  return address;
}

// A local's location when it is one stack slot: exactly DW_OP_fbreg N.
std::optional<int64_t> frame_slot(std::span<const uint8_t> e) { return single_operand(e, DW_OP_fbreg, true); }

std::optional<FrameBase> frame_base(std::span<const uint8_t> e) {
  if (e.size() == 1 && e[0] == DW_OP_call_frame_cfa) return FrameBase{true, -1, 0};
  if (e.empty() || e[0] < DW_OP_breg0 || e[0] > DW_OP_breg31) return std::nullopt;
  auto offset = single_operand(e, e[0], true);
  return offset ? std::optional(FrameBase{false, e[0] - DW_OP_breg0, *offset}) : std::nullopt;
}

}  // namespace

struct DieReader::Impl {
  ObjectAccess access;
  Dwarf_Obj_Access_Interface interface{};
  Dwarf_Debug dbg = nullptr;
  std::string path;

  Error error(uint64_t offset, const char* what, Dwarf_Error err) const {
    std::string detail = err ? dwarf_errmsg(err) : "";
    if (err) dwarf_dealloc_error(dbg, err);
    return make_error(path + ": .debug_info+" + hex(offset) + ": " + what + (detail.empty() ? "" : ": " + detail));
  }

  Result<DieHandle> die_at(uint64_t offset) const {
    Dwarf_Die die = nullptr;
    Dwarf_Error err = nullptr;
    if (dwarf_offdie_b(dbg, offset, true, &die, &err) != DW_DLV_OK) return error(offset, "no DIE here", err);
    return DieHandle(die);
  }

  DieFacts facts(Dwarf_Die die) const {
    DieFacts f;
    Dwarf_Error err = nullptr;
    Dwarf_Off off = 0;
    if (dwarf_dieoffset(die, &off, &err) == DW_DLV_OK) f.offset = off;
    Dwarf_Half tag = 0;
    if (dwarf_tag(die, &tag, &err) == DW_DLV_OK) f.tag = tag;
    Dwarf_Half children = 0;
    if (dwarf_die_abbrev_children_flag(die, &children) == DW_DLV_OK) f.has_children = children != 0;
    Dwarf_Attribute* attrs = nullptr;
    Dwarf_Signed count = 0;
    if (dwarf_attrlist(die, &attrs, &count, &err) != DW_DLV_OK) {
      if (err) dwarf_dealloc_error(dbg, err);
      return f;
    }
    for (Dwarf_Signed i = 0; i < count; ++i) {
      AttrHandle attr(attrs[i]);
      read_attribute(attr.get(), f);
    }
    dwarf_dealloc(dbg, attrs, DW_DLA_LIST);
    return f;
  }

  void read_attribute(Dwarf_Attribute attr, DieFacts& f) const {
    Dwarf_Error err = nullptr;
    Dwarf_Half name = 0, form = 0;
    if (dwarf_whatattr(attr, &name, &err) != DW_DLV_OK || dwarf_whatform(attr, &form, &err) != DW_DLV_OK) {
      if (err) dwarf_dealloc_error(dbg, err);
      return;
    }
    auto unsigned_value = [&]() -> std::optional<uint64_t> {
      Dwarf_Unsigned u = 0;
      Dwarf_Signed s = 0;
      if (form == DW_FORM_sdata || form == DW_FORM_implicit_const) {
        if (dwarf_formsdata(attr, &s, &err) == DW_DLV_OK) return static_cast<uint64_t>(s);
      } else if (dwarf_formudata(attr, &u, &err) == DW_DLV_OK) {
        return u;
      }
      if (err) dwarf_dealloc_error(dbg, err), err = nullptr;
      return std::nullopt;
    };
    switch (name) {
      case DW_AT_name: {
        char* s = nullptr;
        if (dwarf_formstring(attr, &s, &err) == DW_DLV_OK && s) f.name = s;
        break;
      }
      case DW_AT_type: {
        Dwarf_Off ref = 0;
        if (dwarf_global_formref(attr, &ref, &err) == DW_DLV_OK) f.type = ref;
        break;
      }
      case DW_AT_specification: case DW_AT_abstract_origin: {
        Dwarf_Off ref = 0;
        if (dwarf_global_formref(attr, &ref, &err) == DW_DLV_OK) f.specification = ref;
        break;
      }
      case DW_AT_byte_size: f.byte_size = unsigned_value(); break;
      case DW_AT_bit_size: f.bit_size = unsigned_value(); break;
      case DW_AT_data_bit_offset: f.data_bit_offset = unsigned_value(); break;
      case DW_AT_bit_offset: f.bit_offset = unsigned_value(); break;
      case DW_AT_data_member_location:
        f.member_location =
            form == DW_FORM_exprloc || form == DW_FORM_block1 ? plus_uconst(expression(attr, &err)) : unsigned_value();
        break;
      case DW_AT_const_value:
        f.const_value = unsigned_value();
        f.const_value_signed = form == DW_FORM_sdata || form == DW_FORM_implicit_const;
        break;
      case DW_AT_location:
        if (form == DW_FORM_exprloc) {
          auto e = expression(attr, &err);
          f.static_address = single_address(e);
          if (!f.static_address) f.frame_offset = frame_slot(e);
        }
        break;
      case DW_AT_frame_base:
        if (form == DW_FORM_exprloc) f.frame_base = frame_base(expression(attr, &err));
        break;
      case DW_AT_low_pc: {  // a function's entry
        Dwarf_Addr address = 0;
        if (form == DW_FORM_addr && dwarf_formaddr(attr, &address, &err) == DW_DLV_OK) f.static_address = address;
        break;
      }
      case DW_AT_upper_bound: f.upper_bound = unsigned_value(); break;
      case DW_AT_count: f.count = unsigned_value(); break;
      case DW_AT_lower_bound: f.lower_bound = unsigned_value().value_or(0); break;
      case DW_AT_encoding: f.encoding = unsigned_value().value_or(0); break;
      case DW_AT_declaration: f.declaration = true; break;
      case DW_AT_prototyped: f.prototyped = true; break;
      default: break;
    }
    if (err) dwarf_dealloc_error(dbg, err);
  }
};

DieReader::DieReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

void* DieReader::libdwarf_handle() const { return impl_->dbg; }

DieReader::~DieReader() {
  if (impl_ && impl_->dbg) dwarf_object_finish(impl_->dbg, nullptr);
}

Result<std::unique_ptr<DieReader>> DieReader::open(const DwarfSections& sections) {
  auto impl = std::make_unique<Impl>();
  impl->access.sections = &sections;
  impl->path = sections.path();
  impl->interface.object = &impl->access;
  impl->interface.methods = &kMethods;
  Dwarf_Error err = nullptr;
  int rc = dwarf_object_init_b(&impl->interface, nullptr, nullptr, DW_GROUPNUMBER_ANY, &impl->dbg, &err);
  if (rc != DW_DLV_OK) {
    std::string detail = err ? dwarf_errmsg(err) : "no DWARF";
    return make_error(sections.path() + ": libdwarf cannot read the debug info: " + detail);
  }
  return std::unique_ptr<DieReader>(new DieReader(std::move(impl)));
}

Result<DieFacts> DieReader::read(uint64_t offset) const {
  auto die = impl_->die_at(offset);
  if (!die) return die.error();
  return impl_->facts(die->get());
}

Result<std::vector<DieFacts>> DieReader::children(uint64_t offset) const {
  auto parent = impl_->die_at(offset);
  if (!parent) return parent.error();
  std::vector<DieFacts> out;
  Dwarf_Error err = nullptr;
  Dwarf_Die raw = nullptr;
  int rc = dwarf_child(parent->get(), &raw, &err);
  while (rc == DW_DLV_OK) {
    DieHandle child(raw);
    out.push_back(impl_->facts(child.get()));
    if (out.size() > 1'000'000) return make_error(impl_->path + ": .debug_info+" + hex(offset) + ": too many children");
    rc = dwarf_siblingof_b(impl_->dbg, child.get(), true, &raw, &err);
  }
  if (rc == DW_DLV_ERROR) return impl_->error(offset, "cannot read the children", err);
  return out;
}

}  // namespace coroner
