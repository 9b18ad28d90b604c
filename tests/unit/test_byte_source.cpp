#include <gtest/gtest.h>

#include "coroner/dump/byte_source.hpp"
#include "coroner/dump/flattened_source.hpp"
#include "coroner/format.hpp"
#include "../support/dump_builder.hpp"
#include "../support/temp_file.hpp"

using namespace coroner;
using namespace coroner::testing;

TEST(MappedFile, ReadsWithinBoundsAndNamesFileAndOffsetOtherwise) {
  TempFile f(Bytes{1, 2, 3, 4, 5});
  auto m = MappedFile::open(f.path());
  ASSERT_TRUE(m) << m.error().message;
  uint8_t buf[2];
  ASSERT_TRUE((*m)->read(3, buf));
  EXPECT_EQ(buf[0], 4);
  auto st = (*m)->read(4, buf);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find(f.path()), std::string::npos);
  EXPECT_NE(st.error().message.find("offset 0x4"), std::string::npos);
  EXPECT_FALSE((*m)->read(~uint64_t{0}, buf));  // no overflow
}

TEST(MappedFile, AStreamingReadGivesWhatTheMapHolds) {
  Bytes file(3 * 4096 + 17);
  for (size_t i = 0; i < file.size(); ++i) file[i] = static_cast<uint8_t>(i * 13 + 5);
  TempFile f(file);
  auto m = MappedFile::open(f.path());
  ASSERT_TRUE(m) << m.error().message;
  for (auto [offset, length] : {std::pair<uint64_t, uint64_t>{0, file.size()}, {4095, 4098}, {file.size() - 1, 1}, {7, 0}}) {
    Bytes by_map(length), streamed(length);
    ASSERT_TRUE((*m)->read(offset, by_map));
    ASSERT_TRUE((*m)->read_streaming(offset, streamed));
    EXPECT_EQ(streamed, by_map) << "at " << offset;
  }
  Bytes two(2);
  auto past = (*m)->read_streaming(file.size() - 1, two);
  ASSERT_FALSE(past);
  EXPECT_NE(past.error().message.find(f.path()), std::string::npos) << past.error().message;
  EXPECT_FALSE((*m)->read_streaming(~uint64_t{0}, two));
}

TEST(MappedFile, MissingFileIsAnErrorNamingIt) {
  auto m = MappedFile::open("/nonexistent/vmcore");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("/nonexistent/vmcore"), std::string::npos);
}

TEST(FlattenedSource, PresentsTheFileItDescribesWithLaterRecordsWinning) {
  Bytes file(10000);
  for (size_t i = 0; i < file.size(); ++i) file[i] = static_cast<uint8_t>(i * 7);
  auto stream = std::make_shared<BufferSource>("x.flat", flatten(file, 3000));
  ASSERT_TRUE(FlattenedSource::is_flattened(*stream));
  auto flat = FlattenedSource::open(stream);
  ASSERT_TRUE(flat) << flat.error().message;
  EXPECT_EQ((*flat)->size(), file.size());
  Bytes out(file.size());
  ASSERT_TRUE((*flat)->read(0, out));
  EXPECT_EQ(out, file);
  Bytes tail(100);
  ASSERT_TRUE((*flat)->read(2950, tail));  // across two records
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), file.begin() + 2950));
  Bytes streamed(100);
  ASSERT_TRUE((*flat)->read_streaming(2950, streamed));
  EXPECT_EQ(streamed, tail);
}

TEST(FlattenedSource, CorruptRecordIsAnErrorWithItsOffset) {
  Bytes stream = flatten(Bytes(100, 1), 50);
  // Make the first record's size absurd.
  int64_t huge = static_cast<int64_t>(__builtin_bswap64(uint64_t{1} << 40));
  std::memcpy(stream.data() + 4096 + 8, &huge, 8);
  auto flat = FlattenedSource::open(std::make_shared<BufferSource>("bad.flat", stream));
  ASSERT_FALSE(flat);
  EXPECT_NE(flat.error().message.find("bad.flat: offset 0x1000"), std::string::npos) << flat.error().message;
}

TEST(FlattenedSource, UnwrittenRangesAreReportedNotZeroFilled) {
  Bytes stream(4096, 0);
  std::memcpy(stream.data(), "makedumpfile", 12);
  int64_t one = static_cast<int64_t>(__builtin_bswap64(1));
  std::memcpy(stream.data() + 16, &one, 8);
  auto rec = [&](int64_t off, int64_t n) {
    int64_t h[2] = {static_cast<int64_t>(__builtin_bswap64(off)), static_cast<int64_t>(__builtin_bswap64(n))};
    stream.insert(stream.end(), reinterpret_cast<uint8_t*>(h), reinterpret_cast<uint8_t*>(h) + 16);
    stream.insert(stream.end(), static_cast<size_t>(n), 0x42);
  };
  rec(0, 10);
  rec(20, 10);
  auto flat = FlattenedSource::open(std::make_shared<BufferSource>("gap.flat", stream));
  ASSERT_TRUE(flat);
  uint8_t buf[15];
  EXPECT_FALSE((*flat)->read(5, buf));
  EXPECT_TRUE((*flat)->read(20, {buf, 10}));
}

TEST(Format, Utf8IsKeptAndInvalidBytesEscaped) {
  EXPECT_EQ(sanitize_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(sanitize_utf8("a\xff" "b"), "a\\xffb");
  EXPECT_EQ(sanitize_utf8("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate is not UTF-8
  EXPECT_EQ(escape_bytes("a\nb"), "a\\x0ab");
}

// A flattened dump's size is what its records claim, so a corrupt header's 40 GB note section
// passed the bounds check and was allocated (found by scripts/fuzz.sh). One read is capped.
TEST(ByteSource, AReadLongerThanAnyPartOfADumpIsRefusedNotAllocated) {
  class Sparse : public ByteSource {
   public:
    uint64_t size() const override { return 1ull << 40; }
    Status read(uint64_t, std::span<uint8_t> out) const override {
      std::memset(out.data(), 0, out.size());
      return ok_status();
    }
    const std::string& name() const override { return name_; }

   private:
    std::string name_ = "sparse.flat";
  };
  Sparse s;
  auto huge = s.read_bytes(0x1000, 0x9ffffff68);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().message.rfind("sparse.flat: offset 0x1000: wants 42949672808 bytes in one piece", 0), 0u)
      << huge.error().message;
  auto note = s.read_bytes(0x1000, 4096);
  ASSERT_TRUE(note);
  EXPECT_EQ(note->size(), 4096u);
}
