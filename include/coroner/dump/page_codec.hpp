#pragma once
// Decompression of one dump page with the codecs makedumpfile and QEMU use.
#include <cstdint>
#include <span>
#include <string>

#include "coroner/result.hpp"

namespace coroner {

enum class PageCodec { none, zlib, lzo, snappy, zstd };
const char* codec_name(PageCodec codec);

// Decompresses `in` into exactly `out.size()` bytes; anything else is an error.
Status decompress_page(PageCodec codec, std::span<const uint8_t> in, std::span<uint8_t> out);

}  // namespace coroner
