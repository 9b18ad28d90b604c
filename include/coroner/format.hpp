#pragma once
// Small formatting helpers shared by messages and reports (GCC 12 has no std::format).
#include <cstdint>
#include <string>
#include <string_view>

namespace coroner {

std::string hex(uint64_t value);              // "0x1f"
std::string hex_padded(uint64_t value);       // "ffffffff81000000" (16 digits, no prefix)
std::string signed_hex(int64_t value);        // "+0x48", "-0x8": an offset either side
std::string human_bytes(uint64_t bytes);      // "511.9 MiB"
void append_hex_escape(std::string& out, unsigned char c);  // appends "\xNN"
// Printable ASCII kept, everything else as \xNN: safe for terminals and for JSON strings.
std::string escape_bytes(std::string_view bytes);
// Valid UTF-8 kept as is; each byte of an invalid sequence becomes \xNN (dump memory is hostile).
std::string sanitize_utf8(std::string_view bytes);

}  // namespace coroner
