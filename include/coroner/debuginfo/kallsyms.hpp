#pragma once
// Linux's kallsyms tables, read out of the kernel's memory: every symbol of the image (functions,
// and with CONFIG_KALLSYMS_ALL its data), for a dump that comes without its vmlinux. The tables'
// addresses come from VMCOREINFO (SYMBOL(kallsyms_names) and the rest), which kernels with
// CONFIG_KALLSYMS export for exactly this.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "coroner/debuginfo/symbol_table.hpp"
#include "coroner/result.hpp"

namespace coroner {

// Run-time addresses of the tables.
struct KallsymsTables {
  uint64_t names = 0, num_syms = 0, token_table = 0, token_index = 0, offsets = 0, relative_base = 0;
};

using MemoryReader = std::function<Status(uint64_t address, std::span<uint8_t> out)>;

class Kallsyms : public SymbolTable {
 public:
  // `stext`: the run-time address of _stext (VMCOREINFO's), by which the two ways a kernel may
  // store its addresses (absolute per-CPU offsets or all relative to one base) are told apart.
  static Result<std::unique_ptr<Kallsyms>> read(const KallsymsTables& tables, const MemoryReader& memory,
                                                uint64_t stext);
  // How the addresses were stored: "absolute per-CPU" or "relative".
  const std::string& address_encoding() const { return encoding_; }

 private:
  Kallsyms() = default;
  std::string encoding_;
};

}  // namespace coroner
