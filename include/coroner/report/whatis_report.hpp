#pragma once
// What addresses are, on every kernel, as text and JSON (schema coroner.whatis, version 2; see
// docs/memory.schema.md).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "coroner/os/identity.hpp"
#include "coroner/target/thread_list.hpp"

namespace coroner::report {

// Names a return address of an allocator's stack (kernel and module symbols).
using ReturnAddressNamer = std::function<CodeLocation(uint64_t pc)>;

struct WhatIsContext {
  ReturnAddressNamer name;
  const ThreadList* threads = nullptr;  // names the thread an audit record gives by address
};

std::string whatis_text(const Identity& w, const WhatIsContext& context);
nlohmann::ordered_json whatis_json(const Identity& w, const WhatIsContext& context);
nlohmann::ordered_json whatis_results_json(const std::string& os, nlohmann::ordered_json results);

}  // namespace coroner::report
