#pragma once
// A code address named as the kernel's oops output names it: "func+0x1f/0x40 [module]".
#include <cstdint>
#include <string>

namespace coroner {

struct CodeLocation {
  std::string function;  // empty when no symbol covers the address
  uint64_t offset = 0, size = 0;
  std::string module;    // empty for the kernel image
  // "func+0x1f/0x40 [module]", or the address when no symbol covers it.
  std::string text(uint64_t address) const;
  // "func+0x1f", as mdb and ddb print a frame, or the address.
  std::string short_text(uint64_t address) const;
};

class Kernel;
// The kernel image's symbol covering `address`, from its ELF symbols. A return address is looked
// up at address - 1, as the kernel's %pB does: a call to a noreturn function can be the last
// instruction of its caller.
CodeLocation locate_in_image(const Kernel& kernel, uint64_t address, bool return_address = false);

}  // namespace coroner
