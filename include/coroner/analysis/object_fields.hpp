#pragma once
// Fields of an object in the dump, read for a rule's field tests: the member a path names, as
// integer bits (signed when its type is) and as the poison pattern its bytes hold.
#include <cstdint>
#include <string>

#include "coroner/poison/poison_catalog.hpp"
#include "coroner/rules/rule_engine.hpp"
#include "coroner/target/object.hpp"

namespace coroner::analysis {

using rules::FieldReader;

// The field `path` of the `type` ("struct dentry", "htable_t") at `address`; patterns are matched
// for `os`. `objects` and `poison` must outlive the reader.
FieldReader object_field_reader(TypedMemory& objects, const PoisonCatalog& poison, std::string os, std::string type,
                                uint64_t address);

}  // namespace coroner::analysis
