#pragma once
// A struct's or union's layout with offsets, in crash's `struct -o` format (so the two can be
// diffed line by line), and as JSON.
#include <nlohmann/json.hpp>
#include <string>

#include "coroner/debuginfo/debug_info.hpp"

namespace coroner::report {

std::string layout_text(DebugInfo& debug, const Type* type);
nlohmann::ordered_json layout_json(DebugInfo& debug, const Type* type);

}  // namespace coroner::report
