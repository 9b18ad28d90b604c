// DebugInfo::frame_layout: where a function keeps its parameters and locals on the stack, as an
// engineer's debugger shows them in a frame (kgdb's `p lwb`, mdb's ::stack arguments).
#include <libdwarf/dwarf.h>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/format.hpp"

namespace coroner {
namespace {

constexpr int kMaxBlockDepth = 16;

}  // namespace

Result<FrameLayout> DebugInfo::frame_layout(std::string_view function) {
  if (btf_) {
    return make_error("'" + std::string(function) + "': frame variables need DWARF; " + path() +
                      " has none (BTF describes types and prototypes only)");
  }
  auto entry = index_.find(NameKind::function, function);
  if (!entry || entry->declaration) {
    for (DebugInfo* other : fallbacks_) {
      if (auto layout = other->frame_layout(function)) return layout;
    }
    return make_error("no definition of function '" + std::string(function) + "' in the debug info of " + path());
  }
  auto facts = dies_->read(entry->die);
  if (!facts) return facts.error();
  if (!facts->frame_base) {
    return make_error(std::string(function) + " (.debug_info+" + hex(entry->die) +
                      "): no frame base in a form coroner reads (DW_OP_call_frame_cfa or DW_OP_bregN)");
  }
  FrameLayout layout{*facts->frame_base, facts->static_address, {}};
  // Parameters and locals, through nested lexical blocks; one slot each.
  auto collect = [&](auto&& self, uint64_t die, int depth) -> Status {
    auto children = dies_->children(die);
    if (!children) return children.error();
    for (const DieFacts& c : *children) {
      if (c.tag == DW_TAG_lexical_block && depth < kMaxBlockDepth) {
        if (auto st = self(self, c.offset, depth + 1); !st) return st;
        continue;
      }
      if (c.tag != DW_TAG_formal_parameter && c.tag != DW_TAG_variable) continue;
      if (!c.frame_offset || c.name.empty()) continue;
      auto type = referenced(c.type, 0);
      if (!type) continue;
      layout.variables.push_back({c.name, *type, c.tag == DW_TAG_formal_parameter, *c.frame_offset});
    }
    return ok_status();
  };
  if (auto st = collect(collect, entry->die, 0); !st) return st.error();
  return layout;
}

}  // namespace coroner
