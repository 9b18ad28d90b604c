#include "coroner/debuginfo/kallsyms.hpp"

#include <cctype>
#include <cstring>
#include <vector>

#include "coroner/format.hpp"

namespace coroner {
namespace {

// Far above any kernel's symbol count (6.12: about 200,000); a corrupt count stops here.
constexpr uint64_t kMaxSymbols = 4'000'000;
constexpr uint64_t kMaxNamesBytes = 64ull << 20;
constexpr size_t kChunk = 64 * 1024;

// kallsyms_names read forward a chunk at a time: its length is known only by decoding it.
class ForwardReader {
 public:
  ForwardReader(const MemoryReader& memory, uint64_t start) : memory_(memory), start_(start) {}
  Result<uint8_t> at(uint64_t offset) {
    if (offset >= kMaxNamesBytes) return make_error("kallsyms_names runs past " + std::to_string(kMaxNamesBytes) + " bytes");
    while (offset >= bytes_.size()) {
      size_t old = bytes_.size();
      bytes_.resize(old + kChunk);
      if (auto st = memory_(start_ + old, {bytes_.data() + old, kChunk}); !st) {
        // The last chunk may cross into an unreadable page the table does not reach: read it a
        // page at a time.
        bytes_.resize(old);
        if (!read_pages(old)) return st.error();
      }
    }
    return bytes_[offset];
  }

 private:
  bool read_pages(size_t old) {
    constexpr uint64_t kPage = 4096;
    bool any = false;
    for (size_t done = 0; done < kChunk;) {
      uint64_t at = start_ + old + done;
      std::vector<uint8_t> buf(kPage - at % kPage);  // up to the page's end: one page per read
      if (!memory_(at, buf)) break;
      bytes_.insert(bytes_.end(), buf.begin(), buf.end());
      done += buf.size();
      any = true;
    }
    return any;
  }
  const MemoryReader& memory_;
  uint64_t start_;
  std::vector<uint8_t> bytes_;
};

template <class T>
Result<std::vector<T>> read_array(const MemoryReader& memory, uint64_t address, uint64_t count, const char* what) {
  std::vector<T> out(count);
  auto st = memory(address, {reinterpret_cast<uint8_t*>(out.data()), count * sizeof(T)});
  if (!st) return make_error(std::string("cannot read ") + what + " at " + hex(address) + ": " + st.error().message);
  return out;
}

struct Decoded {
  std::string name;
  char type = '?';
};

// The token table: NUL-terminated strings that kallsyms_token_index points into.
Result<std::vector<std::string>> read_tokens(const KallsymsTables& t, const MemoryReader& memory) {
  auto index = read_array<uint16_t>(memory, t.token_index, 256, "kallsyms_token_index");
  if (!index) return index.error();
  uint32_t last = 0;
  for (uint16_t i : *index) last = std::max<uint32_t>(last, i);
  // The longest token is far shorter than 256 bytes; read past the last start and stop at pages.
  std::vector<uint8_t> table(last + 256);
  size_t readable = 0;
  for (size_t at = 0; at < table.size(); at += 256) {
    size_t n = std::min<size_t>(256, table.size() - at);
    if (!memory(t.token_table + at, {table.data() + at, n})) break;
    readable = at + n;
  }
  std::vector<std::string> tokens(256);
  for (size_t i = 0; i < 256; ++i) {
    size_t from = (*index)[i];
    if (from >= readable) return make_error("kallsyms_token_table at " + hex(t.token_table) + " is unreadable at token " + std::to_string(i));
    const char* p = reinterpret_cast<const char*>(table.data() + from);
    tokens[i].assign(p, strnlen(p, readable - from));
  }
  return tokens;
}

// Each name is a length (one byte, or two when the first has its top bit set) and that many token
// numbers; the first character of the expansion is the symbol's type letter.
Result<std::vector<Decoded>> decode_names(const KallsymsTables& t, const MemoryReader& memory, uint64_t count,
                                          const std::vector<std::string>& tokens) {
  ForwardReader names(memory, t.names);
  std::vector<Decoded> out;
  out.reserve(count);
  uint64_t off = 0;
  for (uint64_t i = 0; i < count; ++i) {
    auto b = names.at(off++);
    if (!b) return b.error();
    uint32_t len = *b;
    if (len & 0x80) {
      auto hi = names.at(off++);
      if (!hi) return hi.error();
      len = (len & 0x7f) | (uint32_t{*hi} << 7);
    }
    std::string expanded;
    for (uint32_t j = 0; j < len; ++j) {
      auto token = names.at(off++);
      if (!token) return token.error();
      expanded += tokens[*token];
    }
    if (expanded.empty()) return make_error("kallsyms_names: symbol " + std::to_string(i) + " is empty at offset " + std::to_string(off));
    out.push_back({expanded.substr(1), expanded[0]});
  }
  return out;
}

bool is_code_type(char type) { return type == 't' || type == 'T'; }

}  // namespace

Result<std::unique_ptr<Kallsyms>> Kallsyms::read(const KallsymsTables& t, const MemoryReader& memory, uint64_t stext) {
  auto count = read_array<uint64_t>(memory, t.num_syms, 1, "kallsyms_num_syms");
  if (!count) return count.error();
  uint64_t n = (*count)[0] & 0xffffffffu;  // an unsigned int in older kernels, followed by padding
  if (n == 0 || n > kMaxSymbols) return make_error("kallsyms_num_syms at " + hex(t.num_syms) + " says " + std::to_string(n) + " symbols");
  auto base = read_array<uint64_t>(memory, t.relative_base, 1, "kallsyms_relative_base");
  if (!base) return base.error();
  auto offsets = read_array<int32_t>(memory, t.offsets, n, "kallsyms_offsets");
  if (!offsets) return offsets.error();
  auto tokens = read_tokens(t, memory);
  if (!tokens) return tokens.error();
  auto names = decode_names(t, memory, n, *tokens);
  if (!names) return names.error();

  // CONFIG_KALLSYMS_ABSOLUTE_PERCPU: non-negative offsets are absolute (per-CPU offsets), negative
  // ones count down from base - 1. Without it every offset is unsigned from the base.
  auto absolute = [&](int32_t o) { return o >= 0 ? uint64_t(uint32_t(o)) : (*base)[0] - 1 - int64_t(o); };
  auto relative = [&](int32_t o) { return (*base)[0] + uint32_t(o); };
  std::unique_ptr<Kallsyms> k(new Kallsyms());
  bool use_absolute = false, decided = false;
  for (uint64_t i = 0; i < n && !decided; ++i) {
    if ((*names)[i].name != "_stext") continue;
    if (absolute((*offsets)[i]) == stext) use_absolute = decided = true;
    else if (relative((*offsets)[i]) == stext) decided = true;
    else {
      return make_error("kallsyms in the dump place _stext at neither " + hex(absolute((*offsets)[i])) + " nor " +
                        hex(relative((*offsets)[i])) + ", but VMCOREINFO says " + hex(stext) + ": the tables are not read right");
    }
  }
  if (!decided) return make_error("kallsyms in the dump have no _stext to check their addresses against");
  k->encoding_ = use_absolute ? "absolute per-CPU" : "relative";
  for (uint64_t i = 0; i < n; ++i) {
    Decoded& d = (*names)[i];
    uint64_t address = use_absolute ? absolute((*offsets)[i]) : relative((*offsets)[i]);
    k->add_owned(std::move(d.name), address, 0, is_code_type(d.type), std::isupper(static_cast<unsigned char>(d.type)) != 0);
  }
  k->index();
  // The image's code, as the kernel's own core_kernel_text() tells it.
  for (auto [start, end] : {std::pair{"_stext", "_etext"}, std::pair{"_sinittext", "_einittext"}}) {
    auto s = k->address_of(start), e = k->address_of(end);
    if (s && e && *s < *e) k->add_code_range(*s, *e);
  }
  k->source_ = "kallsyms in the dump (" + std::to_string(n) + " symbols)";
  return k;
}

}  // namespace coroner
