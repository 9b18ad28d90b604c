#pragma once
// DWARF call frame information (.debug_frame) through libdwarf: how to find a function's caller
// where ORC has nothing to say. objtool leaves some functions without ORC entries (__crash_kexec,
// where every kdump's panicking CPU saved its registers, is one); the compiler's CFI covers them.
#include <cstdint>
#include <optional>

#include "coroner/debuginfo/libdwarf_session.hpp"

namespace coroner {

// x86-64 DWARF register numbers.
constexpr int kDwarfRbp = 6, kDwarfRsp = 7;

// The rule at one address: CFA = register + offset; the return address and the caller's rbp are
// saved at CFA + their offsets (no offset: rbp was not saved, it still holds the caller's).
struct CallFrameRule {
  int cfa_register = kDwarfRsp;
  int64_t cfa_offset = 0;
  int64_t return_address_offset = -8;
  std::optional<int64_t> rbp_offset;
};

class CallFrames {
 public:
  explicit CallFrames(const LibdwarfSession& libdwarf) : reader_(libdwarf) {}
  ~CallFrames();
  CallFrames(const CallFrames&) = delete;
  CallFrames& operator=(const CallFrames&) = delete;

  // The rule at a (link-time, or relocated) address; nullopt when no FDE covers it or its rule is
  // one an unwinder cannot follow without more registers (an expression, a register other than
  // rsp or rbp).
  std::optional<CallFrameRule> rule_at(uint64_t address);

 private:
  void load();

  const LibdwarfSession& reader_;
  bool loaded_ = false;
  void* cies_ = nullptr;
  void* fdes_ = nullptr;
  long long cie_count_ = 0, fde_count_ = 0;
};

}  // namespace coroner
