#include "coroner/dump/vmcoreinfo.hpp"

#include <charconv>

namespace coroner {
namespace {

std::optional<uint64_t> parse_unsigned(std::string_view s, int base) {
  if (base == 16 && (s.starts_with("0x") || s.starts_with("0X"))) s.remove_prefix(2);
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

VmcoreInfo::VmcoreInfo(std::string_view text) {
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    entries_.emplace(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
}

std::optional<std::string_view> VmcoreInfo::get(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<uint64_t> VmcoreInfo::decimal(std::string_view key) const {
  auto v = get(key);
  return v ? parse_unsigned(*v, 10) : std::nullopt;
}

std::optional<uint64_t> VmcoreInfo::hexadecimal(std::string_view key) const {
  auto v = get(key);
  return v ? parse_unsigned(*v, 16) : std::nullopt;
}

std::optional<uint64_t> VmcoreInfo::wrapped(std::string_view kind, std::string_view name,
                                            int base) const {
  std::string key;
  key.reserve(kind.size() + name.size() + 2);
  key.append(kind).append("(").append(name).append(")");
  return base == 16 ? hexadecimal(key) : decimal(key);
}

std::optional<uint64_t> VmcoreInfo::symbol(std::string_view name) const {
  return wrapped("SYMBOL", name, 16);
}
std::optional<uint64_t> VmcoreInfo::offset(std::string_view m) const { return wrapped("OFFSET", m, 10); }
std::optional<uint64_t> VmcoreInfo::size(std::string_view n) const { return wrapped("SIZE", n, 10); }
std::optional<uint64_t> VmcoreInfo::length(std::string_view n) const { return wrapped("LENGTH", n, 10); }

std::optional<int64_t> VmcoreInfo::number(std::string_view name) const {
  auto v = get("NUMBER(" + std::string(name) + ")");
  if (!v) return std::nullopt;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n, 10);
  if (ec != std::errc() || end != v->data() + v->size()) return std::nullopt;
  return n;
}

}  // namespace coroner
