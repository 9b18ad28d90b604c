#include "coroner/dump/page_codec.hpp"

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

namespace coroner {

const char* codec_name(PageCodec codec) {
  switch (codec) {
    case PageCodec::none: return "none";
    case PageCodec::zlib: return "zlib";
    case PageCodec::lzo: return "lzo";
    case PageCodec::snappy: return "snappy";
    case PageCodec::zstd: return "zstd";
  }
  return "?";
}

static Status size_mismatch(PageCodec codec, uint64_t got, uint64_t want) {
  return make_error(std::string(codec_name(codec)) + " page decompressed to " + std::to_string(got) +
                    " bytes, not " + std::to_string(want));
}

Status decompress_page(PageCodec codec, std::span<const uint8_t> in, std::span<uint8_t> out) {
  switch (codec) {
    case PageCodec::none:
      if (in.size() != out.size()) return size_mismatch(codec, in.size(), out.size());
      std::memcpy(out.data(), in.data(), in.size());
      return ok_status();
    case PageCodec::zlib: {
      uLongf len = out.size();
      int rc = uncompress(out.data(), &len, in.data(), in.size());
      if (rc != Z_OK) return make_error("zlib page is corrupt (uncompress returned " + std::to_string(rc) + ")");
      if (len != out.size()) return size_mismatch(codec, len, out.size());
      return ok_status();
    }
    case PageCodec::lzo: {
      static const bool ready = lzo_init() == LZO_E_OK;
      if (!ready) return make_error("lzo_init failed");
      lzo_uint len = out.size();
      int rc = lzo1x_decompress_safe(in.data(), in.size(), out.data(), &len, nullptr);
      if (rc != LZO_E_OK) return make_error("lzo page is corrupt (lzo1x returned " + std::to_string(rc) + ")");
      if (len != out.size()) return size_mismatch(codec, len, out.size());
      return ok_status();
    }
    case PageCodec::snappy: {
      size_t len = 0;
      if (snappy_uncompressed_length(reinterpret_cast<const char*>(in.data()), in.size(), &len) != SNAPPY_OK) {
        return make_error("snappy page is corrupt (no valid length)");
      }
      if (len != out.size()) return size_mismatch(codec, len, out.size());
      if (snappy_uncompress(reinterpret_cast<const char*>(in.data()), in.size(),
                            reinterpret_cast<char*>(out.data()), &len) != SNAPPY_OK) {
        return make_error("snappy page is corrupt");
      }
      return ok_status();
    }
    case PageCodec::zstd: {
      size_t len = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
      if (ZSTD_isError(len)) return make_error(std::string("zstd page is corrupt (") + ZSTD_getErrorName(len) + ")");
      if (len != out.size()) return size_mismatch(codec, len, out.size());
      return ok_status();
    }
  }
  return make_error("unknown page codec");
}

}  // namespace coroner
