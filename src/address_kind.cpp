#include "coroner/address_kind.hpp"

#include <array>

namespace coroner {
namespace {

constexpr std::array<AddressKind, 14> kAll = {
    AddressKind::null,        AddressKind::poison,     AddressKind::non_canonical, AddressKind::user,
    AddressKind::kernel_text, AddressKind::kernel_data, AddressKind::module,       AddressKind::task_stack,
    AddressKind::slab_object, AddressKind::page,       AddressKind::vmalloc,       AddressKind::struct_page,
    AddressKind::unmapped,    AddressKind::unknown};

}  // namespace

const char* address_kind_name(AddressKind k) {
  switch (k) {
    case AddressKind::null: return "null";
    case AddressKind::poison: return "poison";
    case AddressKind::non_canonical: return "non-canonical";
    case AddressKind::user: return "user";
    case AddressKind::kernel_text: return "kernel text";
    case AddressKind::kernel_data: return "kernel data";
    case AddressKind::module: return "module";
    case AddressKind::task_stack: return "task stack";
    case AddressKind::slab_object: return "slab object";
    case AddressKind::page: return "page";
    case AddressKind::vmalloc: return "vmalloc";
    case AddressKind::struct_page: return "struct page";
    case AddressKind::unmapped: return "unmapped";
    case AddressKind::unknown: return "unknown";
  }
  return "unknown";
}

std::optional<AddressKind> parse_address_kind(std::string_view name) {
  for (AddressKind k : kAll) {
    if (name == address_kind_name(k)) return k;
  }
  return std::nullopt;
}

const char* address_kind_names() {
  return "null, poison, non-canonical, user, kernel text, kernel data, module, task stack, slab object, page, vmalloc, "
         "struct page, unmapped, unknown";
}

}  // namespace coroner
