#include "coroner/debuginfo/call_frames.hpp"

#include <libdwarf/dwarf.h>
#include <libdwarf/libdwarf.h>

namespace coroner {
namespace {

constexpr Dwarf_Half kReturnAddressColumn = 16;

Dwarf_Debug debug_of(const LibdwarfSession& s) { return static_cast<Dwarf_Debug>(s.handle()); }

struct RegisterRule {
  Dwarf_Small value_type = 0;
  Dwarf_Signed offset_relevant = 0, reg = 0, offset = 0;
};

std::optional<RegisterRule> register_rule(Dwarf_Debug dbg, Dwarf_Fde fde, Dwarf_Half column, Dwarf_Addr pc) {
  RegisterRule r;
  Dwarf_Ptr block = nullptr;
  Dwarf_Addr row_pc = 0, next_pc = 0;
  Dwarf_Bool more = 0;
  Dwarf_Error err = nullptr;
  if (dwarf_get_fde_info_for_reg3_b(fde, column, pc, &r.value_type, &r.offset_relevant, &r.reg, &r.offset, &block,
                                    &row_pc, &more, &next_pc, &err) != DW_DLV_OK) {
    if (err) dwarf_dealloc_error(dbg, err);
    return std::nullopt;
  }
  return r;
}

// "saved at CFA + offset"
std::optional<int64_t> saved_at_cfa(const std::optional<RegisterRule>& r) {
  if (!r || r->value_type != DW_EXPR_OFFSET || !r->offset_relevant || r->reg != DW_FRAME_CFA_COL3) {
    return std::nullopt;
  }
  return r->offset;
}

}  // namespace

CallFrames::~CallFrames() {
  if (loaded_ && (cies_ || fdes_)) {
    dwarf_fde_cie_list_dealloc(debug_of(reader_), static_cast<Dwarf_Cie*>(cies_), cie_count_,
                               static_cast<Dwarf_Fde*>(fdes_), fde_count_);
  }
}

void CallFrames::load() {
  loaded_ = true;
  Dwarf_Debug dbg = debug_of(reader_);
  if (!dbg) return;
  Dwarf_Cie* cies = nullptr;
  Dwarf_Fde* fdes = nullptr;
  Dwarf_Signed cie_count = 0, fde_count = 0;
  Dwarf_Error err = nullptr;
  if (dwarf_get_fde_list(dbg, &cies, &cie_count, &fdes, &fde_count, &err) != DW_DLV_OK) {
    if (err) dwarf_dealloc_error(dbg, err);
    return;
  }
  cies_ = cies, fdes_ = fdes, cie_count_ = cie_count, fde_count_ = fde_count;
}

std::optional<CallFrameRule> CallFrames::rule_at(uint64_t address) {
  if (!loaded_) load();
  if (!fdes_) return std::nullopt;
  Dwarf_Debug dbg = debug_of(reader_);
  Dwarf_Fde fde = nullptr;
  Dwarf_Addr low = 0, high = 0;
  Dwarf_Error err = nullptr;
  if (dwarf_get_fde_at_pc(static_cast<Dwarf_Fde*>(fdes_), address, &fde, &low, &high, &err) != DW_DLV_OK) {
    if (err) dwarf_dealloc_error(dbg, err);
    return std::nullopt;
  }
  Dwarf_Small value_type = 0;
  Dwarf_Signed offset_relevant = 0, reg = 0, offset = 0;
  Dwarf_Ptr block = nullptr;
  Dwarf_Addr row_pc = 0, next_pc = 0;
  Dwarf_Bool more = 0;
  if (dwarf_get_fde_info_for_cfa_reg3_b(fde, address, &value_type, &offset_relevant, &reg, &offset, &block, &row_pc,
                                        &more, &next_pc, &err) != DW_DLV_OK) {
    if (err) dwarf_dealloc_error(dbg, err);
    return std::nullopt;
  }
  if (value_type != DW_EXPR_OFFSET || (reg != kDwarfRsp && reg != kDwarfRbp)) return std::nullopt;
  CallFrameRule rule;
  rule.cfa_register = static_cast<int>(reg);
  rule.cfa_offset = offset;
  auto ra = saved_at_cfa(register_rule(dbg, fde, kReturnAddressColumn, address));
  if (!ra) return std::nullopt;
  rule.return_address_offset = *ra;
  rule.rbp_offset = saved_at_cfa(register_rule(dbg, fde, kDwarfRbp, address));
  return rule;
}

}  // namespace coroner
