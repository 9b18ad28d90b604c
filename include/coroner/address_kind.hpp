#pragma once
// What an address is, in one vocabulary for every layer: `whatis` answers with it, the fault
// explanation classifies the faulting address with it, and a rule's `fault: {address: KIND}` names
// it. The names are the ones rules and JSON reports write.
#include <optional>
#include <string_view>

namespace coroner {

enum class AddressKind {
  null,           // within the first page
  poison,         // a value the poison catalog knows
  non_canonical,  // neither half of the address space
  user,
  kernel_text,
  kernel_data,
  module,
  task_stack,
  slab_object,
  page,
  vmalloc,
  struct_page,
  unmapped,
  unknown,
};

// "null", "poison", "non-canonical", "user", "kernel text", "slab object", "task stack", ...
const char* address_kind_name(AddressKind k);
// The kind a name stands for; nullopt for a name that is none of address_kind_name's.
std::optional<AddressKind> parse_address_kind(std::string_view name);
// Every name, for messages that list them: "null, poison, non-canonical, ...".
const char* address_kind_names();

}  // namespace coroner
