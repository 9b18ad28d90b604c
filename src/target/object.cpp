#include "coroner/target/object.hpp"

#include <algorithm>
#include <cstring>

#include "coroner/format.hpp"

namespace coroner {

size_t ObjectBytes::readable_prefix() const {
  size_t n = data.size();
  for (const auto& [start, end] : missing) n = std::min<size_t>(n, start);
  return n;
}

bool ObjectBytes::readable(uint64_t offset, uint64_t length) const {
  if (offset + length > data.size()) return false;
  for (const auto& [start, end] : missing) {
    if (offset < end && start < offset + length) return false;
  }
  return true;
}

ObjectBytes TypedMemory::read_object(uint64_t address, uint64_t size) const {
  ObjectBytes out;
  out.address = address;
  out.data.assign(size, 0);
  uint64_t page = kernel_.layout().page_size ? kernel_.layout().page_size : 4096;
  uint64_t done = 0;
  while (done < size) {
    uint64_t at = address + done;
    uint64_t chunk = std::min(size - done, page - at % page);
    auto st = kernel_.read(at, {out.data.data() + done, chunk});
    if (!st) {
      if (out.why_missing.empty()) out.why_missing = st.error().message;
      if (!out.missing.empty() && out.missing.back().second == done) {
        out.missing.back().second = done + chunk;
      } else {
        out.missing.emplace_back(done, done + chunk);
      }
    }
    done += chunk;
  }
  return out;
}

uint64_t extract_bits(const uint8_t* bytes, size_t length, uint64_t bit_offset, uint32_t bit_size, bool sign) {
  // One 16-byte window covers any field of up to 64 bits at any bit position; bits past
  // `length` read as zero. This runs for every scalar a struct print shows.
  bit_size = std::min<uint32_t>(bit_size, 64);
  uint64_t first = bit_offset / 8;
  if (bit_size == 0 || first >= length) return 0;
  unsigned __int128 window = 0;
  std::memcpy(&window, bytes + first, std::min<uint64_t>(length - first, sizeof window));
  uint64_t v = static_cast<uint64_t>(window >> (bit_offset % 8));
  if (bit_size < 64) v &= (uint64_t{1} << bit_size) - 1;
  if (sign && bit_size < 64 && (v >> (bit_size - 1) & 1)) v |= ~uint64_t{0} << bit_size;
  return v;
}

Result<Value> TypedMemory::field(const Type* type, uint64_t address, std::string_view path) {
  if (path.starts_with("[")) {
    size_t close = path.find(']');
    std::string digits(path.substr(1, close == std::string_view::npos ? 0 : close - 1));
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) {
      return make_error("'" + std::string(path) + "': an array index must be a number");
    }
    address += std::stoull(digits) * size_of(type);
    path.remove_prefix(close + 1);
    if (path.starts_with(".")) path.remove_prefix(1);
    if (path.empty()) return lvalue(type, address);
  }
  auto m = debug_.find_member_path(type, path);
  if (!m) return m.error();
  return member_value(*m, address);
}

Value member_value(const Member& m, std::optional<uint64_t> container) {
  Value v;
  v.type = m.type;
  if (container) v.address = *container + m.offset;
  if (m.is_bit_field()) {
    v.bit_size = m.bit_size;
    v.bit_offset = static_cast<uint32_t>(m.bit_offset - m.offset * 8);
  }
  return v;
}

Result<std::vector<uint8_t>> TypedMemory::bytes(const Value& v) const {
  if (!v.address) return v.bytes;
  uint64_t size = size_of(v.type);
  if (v.bit_size) size = (v.bit_offset + v.bit_size + 7) / 8;
  if (size > (64u << 20)) return make_error("object of " + std::to_string(size) + " bytes is too large to read");
  std::vector<uint8_t> out(size);
  auto st = kernel_.read(*v.address, out);
  if (!st) return st.error();
  return out;
}

Result<uint64_t> TypedMemory::integer(const Value& v) const {
  auto b = bytes(v);
  if (!b) return b.error();
  bool sign = is_signed(v.type);
  if (v.bit_size) return extract_bits(b->data(), b->size(), v.bit_offset, v.bit_size, sign);
  const Type* t = strip_typedefs(v.type);
  size_t n = std::min<size_t>(b->size(), 8);
  if (t && (t->kind == TypeKind::structure || t->kind == TypeKind::union_type || t->kind == TypeKind::array)) {
    return make_error("a " + type_name(v.type) + " is not a number");
  }
  return extract_bits(b->data(), n, 0, static_cast<uint32_t>(n * 8), sign);
}

Value TypedMemory::rvalue(const Type* t, uint64_t bits) const {
  Value v;
  v.type = t;
  const Type* s = strip_typedefs(t);
  size_t n = std::clamp<size_t>(s ? s->size : 8, 1, 8);
  v.bytes.resize(n);
  std::memcpy(v.bytes.data(), &bits, n);
  return v;
}

Result<Value> TypedMemory::variable(std::string_view name) {
  auto var = debug_.find_variable(name);
  if (var && var->die.owner != &debug_) {
    // A module's variable: its .ko was relocated to the load addresses, so DWARF places it.
    if (!var->static_address) {
      return make_error("'" + std::string(name) + "' in " + var->die.owner->path() + " has no fixed address");
    }
    return lvalue(var->type, *var->static_address);
  }
  auto address = kernel_.symbol_address(name);
  if (!address) {
    return make_error("no symbol '" + std::string(name) + "' in the vmlinux symbol table or VMCOREINFO" +
                      (var ? " (it is in the debug info; a per-CPU or optimised-out variable?)" : ""));
  }
  if (!var) {
    // A symbol with no debug info (an assembler label, thread_return): an object of no known type,
    // so that `&thread_return` is its address, as crash's `p &thread_return` is.
    auto no_type = debug_.find_type("void");
    if (!no_type) return var.error();
    return lvalue(*no_type, *address);
  }
  return lvalue(var->type, *address);
}

}  // namespace coroner
