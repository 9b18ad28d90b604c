#include "coroner/target/code_location.hpp"

#include "coroner/format.hpp"
#include "coroner/target/kernel.hpp"

namespace coroner {

std::string CodeLocation::text(uint64_t address) const {
  if (function.empty()) return hex(address);
  std::string s = short_text(address);
  if (size) s += "/" + hex(size);
  if (!module.empty()) s += " [" + module + "]";
  return s;
}

std::string CodeLocation::short_text(uint64_t address) const {
  if (function.empty()) return hex(address);
  return function + "+" + hex(offset);
}

CodeLocation locate_in_image(const Kernel& kernel, uint64_t address, bool return_address) {
  CodeLocation loc;
  const SymbolTable* symbols = kernel.symbols();
  if (!symbols || (return_address && address == 0)) return loc;
  auto hit = symbols->lookup(return_address ? address - 1 : address);
  if (!hit) return loc;
  loc.function = std::string(hit->symbol->name);
  loc.offset = hit->offset + (return_address ? 1 : 0);
  loc.size = hit->size;
  return loc;
}

}  // namespace coroner
