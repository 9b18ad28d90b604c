#pragma once
// Values as a kernel engineer reads them: crash/gdb-like text (members one per line, char arrays
// as escaped strings, pointers with the symbol they point into, enums by name) and JSON. A part
// that cannot be read says so in place; it never stops the rest.
#include <nlohmann/json.hpp>
#include <string>

#include "coroner/poison/poison_catalog.hpp"
#include "coroner/target/object.hpp"

namespace coroner::report {

struct ValueFormat {
  int depth = 16;            // nested structs expanded this deep; deeper ones show as {...}
  size_t max_elements = 256; // array elements shown before "..."
  // Scalars and char arrays that match a pattern are annotated ("<- POISON_FREE: ..."); null: never.
  const PoisonCatalog* poison = &PoisonCatalog::shipped();
  std::string os = "linux";
};
// The shortest run of pattern bytes a char array must hold to be annotated.
constexpr size_t kPoisonRunInText = 4;

std::string value_text(TypedMemory& objects, const Value& value, const ValueFormat& format = {});
nlohmann::ordered_json value_json(TypedMemory& objects, const Value& value, const ValueFormat& format = {});

}  // namespace coroner::report
