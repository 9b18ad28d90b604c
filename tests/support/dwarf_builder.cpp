#include "dwarf_builder.hpp"

#include <stdexcept>

namespace coroner::testing {
namespace {

void put_uleb(std::vector<uint8_t>& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<uint8_t>(b | (v ? 0x80 : 0)));
  } while (v);
}

}  // namespace

DwarfUnitBuilder::DwarfUnitBuilder() {
  info_ = {0, 0, 0, 0, 5, 0, 1, 8, 0, 0, 0, 0};  // length (finish), v5, DW_UT_compile, 8-byte addresses, abbrev 0
}

void DwarfUnitBuilder::abbrev(uint64_t code, uint64_t tag, bool children,
                              std::initializer_list<std::pair<uint64_t, uint64_t>> attributes) {
  put_uleb(abbrev_, code);
  put_uleb(abbrev_, tag);
  abbrev_.push_back(children ? 1 : 0);
  for (auto [attribute, form] : attributes) put_uleb(abbrev_, attribute), put_uleb(abbrev_, form);
  abbrev_.insert(abbrev_.end(), {0, 0});
}

void DwarfUnitBuilder::label(const std::string& name) { labels_[name] = static_cast<uint32_t>(info_.size()); }

DwarfUnitBuilder& DwarfUnitBuilder::u8(uint8_t v) {
  info_.push_back(v);
  return *this;
}

DwarfUnitBuilder& DwarfUnitBuilder::u32(uint32_t v) {
  for (int i = 0; i < 4; ++i) info_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return *this;
}

DwarfUnitBuilder& DwarfUnitBuilder::u64(uint64_t v) {
  for (int i = 0; i < 8; ++i) info_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return *this;
}

DwarfUnitBuilder& DwarfUnitBuilder::uleb(uint64_t v) {
  put_uleb(info_, v);
  return *this;
}

DwarfUnitBuilder& DwarfUnitBuilder::strp(const std::string& s) {
  auto [it, added] = strings_.try_emplace(s, static_cast<uint32_t>(str_.size()));
  if (added) str_.insert(str_.end(), s.c_str(), s.c_str() + s.size() + 1);
  return u32(it->second);
}

DwarfUnitBuilder& DwarfUnitBuilder::ref(const std::string& label) {
  refs_.emplace_back(info_.size(), label);
  return u32(0);
}

DwarfUnitBuilder& DwarfUnitBuilder::exprloc(std::initializer_list<uint8_t> expression) {
  uleb(expression.size());
  info_.insert(info_.end(), expression);
  return *this;
}

DwarfUnitBuilder::Sections DwarfUnitBuilder::finish() {
  Sections out{abbrev_, info_, str_};
  out.abbrev.push_back(0);
  for (const auto& [at, label] : refs_) {
    auto it = labels_.find(label);
    if (it == labels_.end()) throw std::logic_error("DwarfUnitBuilder: no DIE labelled " + label);
    for (int i = 0; i < 4; ++i) out.info[at + i] = static_cast<uint8_t>(it->second >> (8 * i));
  }
  const auto length = static_cast<uint32_t>(out.info.size() - 4);
  for (int i = 0; i < 4; ++i) out.info[i] = static_cast<uint8_t>(length >> (8 * i));
  return out;
}

}  // namespace coroner::testing
