// ORC entries and tables: both bit layouts (before 6.4: type:2 end:1; since: type:3 signal:1), the
// relative ip encoding, sorting, and lookups at, between and outside the covered text.
#include <gtest/gtest.h>

#include <cstring>

#include "coroner/arch/x86_64_orc.hpp"

using namespace coroner::x86_64;

namespace {

std::vector<uint8_t> entry(int16_t sp_offset, int16_t bp_offset, uint16_t bits) {
  std::vector<uint8_t> b(6);
  std::memcpy(b.data(), &sp_offset, 2);
  std::memcpy(b.data() + 2, &bp_offset, 2);
  std::memcpy(b.data() + 4, &bits, 2);
  return b;
}

TEST(Orc, DecodesThePre64Layout) {
  OrcLayout old;  // sp_reg:4 bp_reg:4 type:2 end:1
  // sp_reg SP (5), bp_reg PREV_SP (1), type REGS (1), end
  auto b = entry(16, -16, static_cast<uint16_t>(5 | 1 << 4 | 1 << 8 | 1 << 10));
  OrcEntry e = decode_orc_entry(b.data(), old);
  EXPECT_EQ(e.sp_offset, 16);
  EXPECT_EQ(e.bp_offset, -16);
  EXPECT_EQ(e.sp_reg, OrcReg::sp);
  EXPECT_EQ(e.bp_reg, OrcReg::prev_sp);
  EXPECT_EQ(e.type, OrcType::regs);
  EXPECT_TRUE(e.end);
  auto call = entry(8, 0, static_cast<uint16_t>(5));
  EXPECT_EQ(decode_orc_entry(call.data(), old).type, OrcType::call);
  EXPECT_FALSE(decode_orc_entry(call.data(), old).end);
}

TEST(Orc, DecodesThe64Layout) {
  OrcLayout now{0, 4, 8, 3, -1, 11};  // sp_reg:4 bp_reg:4 type:3 signal:1
  auto call = entry(8, 0, static_cast<uint16_t>(5 | 2 << 8));
  EXPECT_EQ(decode_orc_entry(call.data(), now).type, OrcType::call);
  auto end = entry(0, 0, static_cast<uint16_t>(1 << 8));
  EXPECT_EQ(decode_orc_entry(end.data(), now).type, OrcType::end_of_stack);
  EXPECT_TRUE(decode_orc_entry(end.data(), now).end);
  auto regs = entry(0, 0, static_cast<uint16_t>(5 | 3 << 8 | 1 << 11));
  OrcEntry e = decode_orc_entry(regs.data(), now);
  EXPECT_EQ(e.type, OrcType::regs);
  EXPECT_TRUE(e.signal);
}

TEST(Orc, TablesResolveRelativeIpsSortAndFindTheCoveringEntry) {
  // Three entries stored out of order; each ip is relative to its own slot.
  const uint64_t section = 0xffffffff82000000;
  const uint64_t ips[] = {0xffffffff81000100, 0xffffffff81000000, 0xffffffff81000200};
  std::vector<uint8_t> ip_bytes(12), entries;
  for (int i = 0; i < 3; ++i) {
    int32_t rel = static_cast<int32_t>(ips[i] - (section + 4 * i));
    std::memcpy(ip_bytes.data() + 4 * i, &rel, 4);
    auto e = entry(static_cast<int16_t>(8 * (i + 1)), 0, 5);
    entries.insert(entries.end(), e.begin(), e.end());
  }
  OrcTable t = make_orc_table("vmlinux", ip_bytes, section, entries, OrcLayout{});
  ASSERT_EQ(t.ips.size(), 3u);
  EXPECT_EQ(t.ips[0], 0xffffffff81000000u);
  EXPECT_EQ(t.entries[0].sp_offset, 16);  // the entry travelled with its ip
  OrcIndex index;
  index.add(std::move(t));
  ASSERT_NE(index.find(0xffffffff81000000), nullptr);
  EXPECT_EQ(index.find(0xffffffff81000000)->sp_offset, 16);
  EXPECT_EQ(index.find(0xffffffff810000ff)->sp_offset, 16);
  EXPECT_EQ(index.find(0xffffffff81000100)->sp_offset, 8);
  EXPECT_EQ(index.find(0xffffffff81000200)->sp_offset, 24);
  EXPECT_EQ(index.find(0xffffffff80ffffff), nullptr);
  EXPECT_EQ(index.find(0xffffffff81000201), nullptr);  // past the last ip: not this table's text
}

TEST(Orc, TruncatedSectionsGiveTheEntriesBothHold) {
  std::vector<uint8_t> ips(4 * 5 + 3, 0), entries(6 * 2 + 5, 0);
  EXPECT_EQ(make_orc_table("m", ips, 0x1000, entries, OrcLayout{}).ips.size(), 2u);
  EXPECT_TRUE(make_orc_table("m", {}, 0, {}, OrcLayout{}).ips.empty());
}

}  // namespace
