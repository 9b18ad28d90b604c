#include "coroner/poison/poison_catalog.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "coroner/format.hpp"

namespace coroner {

extern const char* const kShippedPoisonCatalog;  // data/poison.yaml, generated into the build

namespace {

constexpr uint64_t kNearPoison = 4096;  // a member offset, not a different value

std::string where(const std::string& name, const YAML::Mark& mark) {
  return name + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

Result<PoisonPattern> pattern_from(const YAML::Node& node, const std::string& name) {
  if (!node.IsMap()) return make_error(where(name, node.Mark()) + ": a pattern is a map (name, value, width, ...)");
  PoisonPattern p;
  auto text = [&](const char* key, std::string& out, bool required) -> Status {
    const YAML::Node v = node[key];
    if (!v) return required ? make_error(where(name, node.Mark()) + ": the pattern has no `" + key + "`") : ok_status();
    if (!v.IsScalar()) return make_error(where(name, v.Mark()) + ": `" + key + "` must be a single value");
    out = v.Scalar();
    return ok_status();
  };
  std::string value, width = "1";
  for (auto [key, out, required] : {std::tuple{"name", &p.name, true}, std::tuple{"value", &value, true},
                                    std::tuple{"width", &width, false}, std::tuple{"os", &p.os, false},
                                    std::tuple{"allocator", &p.allocator, false}, std::tuple{"state", &p.state, false},
                                    std::tuple{"meaning", &p.meaning, true}}) {
    if (auto st = text(key, *out, required); !st) return st.error();
  }
  char* end = nullptr;
  p.value = std::strtoull(value.c_str(), &end, 0);
  if (value.empty() || *end) return make_error(where(name, node["value"].Mark()) + ": value '" + value + "' is not a number");
  p.width = static_cast<unsigned>(std::strtoul(width.c_str(), &end, 0));
  if (*end || (p.width != 1 && p.width != 4 && p.width != 8)) {
    return make_error(where(name, node["width"].Mark()) + ": width must be 1, 4 or 8, not '" + width + "'");
  }
  if (p.width < 8 && p.value >> (8 * p.width)) {
    return make_error(where(name, node["value"].Mark()) + ": value " + hex(p.value) + " is wider than " +
                      std::to_string(p.width) + " bytes");
  }
  if (p.os.empty()) p.os = "any";
  return p;
}

}  // namespace

uint64_t PoisonPattern::word() const {
  switch (width) {
    case 1: return value * 0x0101010101010101ull;
    case 4: return value | (value << 32);
    default: return value;
  }
}

const PoisonCatalog& PoisonCatalog::shipped() {
  static const PoisonCatalog catalog = [] {
    auto c = parse(kShippedPoisonCatalog, "data/poison.yaml");
    return c ? std::move(*c) : PoisonCatalog{};
  }();
  return catalog;
}

Result<PoisonCatalog> PoisonCatalog::parse(std::string_view yaml, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return make_error(where(name, e.mark) + ": " + e.msg);
  }
  const YAML::Node list = root["patterns"];
  if (!list || !list.IsSequence()) return make_error(name + ": expected a top-level `patterns:` list");
  PoisonCatalog out;
  for (const auto& node : list) {
    auto p = pattern_from(node, name);
    if (!p) return p.error();
    out.patterns_.push_back(std::move(*p));
  }
  return out;
}

Result<PoisonCatalog> PoisonCatalog::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(path + ": cannot open the poison catalog");
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

void PoisonCatalog::merge(const PoisonCatalog& other) {
  for (const auto& p : other.patterns_) {
    std::erase_if(patterns_, [&](const PoisonPattern& mine) { return mine.name == p.name; });
    patterns_.push_back(p);
  }
}

const PoisonPattern* PoisonCatalog::find(std::string_view name) const {
  for (const auto& p : patterns_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<const PoisonPattern*> PoisonCatalog::for_os(std::string_view os) const {
  std::vector<const PoisonPattern*> out;
  for (const auto& p : patterns_) {
    if (p.os == os) out.push_back(&p);
  }
  for (const auto& p : patterns_) {
    if (p.os == "any" && p.os != os) out.push_back(&p);
  }
  return out;
}

std::optional<PoisonMatch> PoisonCatalog::match_scalar(uint64_t value, unsigned size, std::string_view os) const {
  if (size < 4 || size > 8) return std::nullopt;
  uint64_t mask = size == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
  auto patterns = for_os(os);
  for (const PoisonPattern* p : patterns) {
    if (p->width > size) continue;
    if ((value & mask) == (p->word() & mask)) return PoisonMatch{p, 0};
  }
  // Every byte from byte-wide patterns of one state, most of them one pattern: SLUB ends a freed
  // object's last word with POISON_END (0xa56b6b6b6b6b6b6b).
  const PoisonPattern* bytes[8] = {};
  for (unsigned i = 0; i < size; ++i) {
    uint8_t b = static_cast<uint8_t>(value >> (8 * i));
    for (const PoisonPattern* p : patterns) {
      if (p->width == 1 && p->value == b) {
        bytes[i] = p;
        break;
      }
    }
    if (!bytes[i] || bytes[i]->state != bytes[0]->state || bytes[i]->os != bytes[0]->os) {
      bytes[0] = nullptr;
      break;
    }
  }
  if (bytes[0]) {
    const PoisonPattern* most = bytes[0];
    for (unsigned i = 0; i < size; ++i) {
      if (std::count(bytes, bytes + size, bytes[i]) > std::count(bytes, bytes + size, most)) most = bytes[i];
    }
    if (std::count(bytes, bytes + size, most) > static_cast<long>(size / 2)) return PoisonMatch{most, 0};
  }
  if (size < 8) return std::nullopt;
  for (const PoisonPattern* p : patterns) {
    if (value > p->word() && value - p->word() < kNearPoison) return PoisonMatch{p, value - p->word()};
  }
  return std::nullopt;
}

std::optional<PoisonRun> PoisonCatalog::longest_byte_run(std::span<const uint8_t> bytes, std::string_view os,
                                                        size_t min_run) const {
  std::optional<PoisonRun> best;
  for (const PoisonPattern* p : for_os(os)) {
    if (p->width != 1) continue;
    for (size_t i = 0; i < bytes.size();) {
      if (bytes[i] != p->value) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < bytes.size() && bytes[j] == p->value) ++j;
      if (j - i >= min_run && (!best || j - i > best->length)) best = PoisonRun{p, i, j - i};
      i = j;
    }
  }
  return best;
}

}  // namespace coroner
