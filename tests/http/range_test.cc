// decide_range: Range field syntax (RFC 9110 14.1), satisfiability, the 200/206/416 decision,
// the many-ranges and overlap defences, coalescing, and offsets near 2^64.
#include "http/range.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cork {
namespace {

using Kind = RangeDecision::Kind;

constexpr std::size_t kMaxRanges = 16;

RangeDecision decide(std::string_view header, std::uint64_t length = 100,
                     std::size_t max_ranges = kMaxRanges) {
  return decide_range(header, length, max_ranges);
}

// The ranges of a kPartial decision; fails the test for any other kind.
std::vector<ByteRange> partial(std::string_view header, std::uint64_t length = 100,
                               std::size_t max_ranges = kMaxRanges) {
  const RangeDecision d = decide(header, length, max_ranges);
  EXPECT_EQ(d.kind, Kind::kPartial) << header;
  return d.ranges;
}

void expect_full(std::string_view header, std::uint64_t length = 100) {
  const RangeDecision d = decide(header, length);
  EXPECT_EQ(d.kind, Kind::kFull) << "header: " << header;
  EXPECT_TRUE(d.ranges.empty()) << "header: " << header;
}

void expect_unsatisfiable(std::string_view header, std::uint64_t length = 100) {
  const RangeDecision d = decide(header, length);
  EXPECT_EQ(d.kind, Kind::kUnsatisfiable) << "header: " << header;
  EXPECT_TRUE(d.ranges.empty()) << "header: " << header;
}

using Ranges = std::vector<ByteRange>;

TEST(Range, ByteRangeLength) {
  EXPECT_EQ((ByteRange{0, 0}).length(), 1u);
  EXPECT_EQ((ByteRange{10, 19}).length(), 10u);
}

TEST(Range, SingleIntRange) {
  EXPECT_EQ(partial("bytes=0-0"), (Ranges{{0, 0}}));
  EXPECT_EQ(partial("bytes=0-9"), (Ranges{{0, 9}}));
  EXPECT_EQ(partial("bytes=10-19"), (Ranges{{10, 19}}));
  EXPECT_EQ(partial("bytes=99-99"), (Ranges{{99, 99}}));
  EXPECT_EQ(partial("bytes=0-99"), (Ranges{{0, 99}}));
}

TEST(Range, LastPosIsClampedToTheLength) {
  // RFC 9110 14.1.2: a last-pos at or beyond the length means the end of the representation.
  EXPECT_EQ(partial("bytes=50-100"), (Ranges{{50, 99}}));
  EXPECT_EQ(partial("bytes=50-1000000"), (Ranges{{50, 99}}));
}

TEST(Range, OpenRange) {
  EXPECT_EQ(partial("bytes=0-"), (Ranges{{0, 99}}));
  EXPECT_EQ(partial("bytes=42-"), (Ranges{{42, 99}}));
  EXPECT_EQ(partial("bytes=99-"), (Ranges{{99, 99}}));
}

TEST(Range, SuffixRange) {
  EXPECT_EQ(partial("bytes=-1"), (Ranges{{99, 99}}));
  EXPECT_EQ(partial("bytes=-10"), (Ranges{{90, 99}}));
  EXPECT_EQ(partial("bytes=-99"), (Ranges{{1, 99}}));
}

TEST(Range, SuffixLongerThanTheFileIsTheWholeFile) {
  EXPECT_EQ(partial("bytes=-100"), (Ranges{{0, 99}}));
  EXPECT_EQ(partial("bytes=-101"), (Ranges{{0, 99}}));
  EXPECT_EQ(partial("bytes=-18446744073709551615"), (Ranges{{0, 99}}));
}

TEST(Range, UnitIsCaseInsensitive) {
  EXPECT_EQ(partial("BYTES=0-1"), (Ranges{{0, 1}}));
  EXPECT_EQ(partial("Bytes=0-1"), (Ranges{{0, 1}}));
  EXPECT_EQ(partial("bYtEs=-5"), (Ranges{{95, 99}}));
}

TEST(Range, InvalidHeadersAreIgnored) {
  for (const char* header : {
           "",
           "bytes",
           "bytes0-1",
           "0-1",
           "bytes=",
           "bytes=,",
           "bytes=, ,\t,",
           "bytes=a-b",
           "bytes=0-b",
           "bytes=a-1",
           "bytes=5-1",
           "bytes=1-0",
           "bytes= 0-1",
           "bytes=\t0-1",
           "bytes =0-1",
           " bytes=0-1",
           "bytes= ,0-1",
           "items=0-1",
           "byte=0-1",
           "bytess=0-1",
           "none=0-1",
           "bytes=-",
           "bytes=--1",
           "bytes=-a",
           "bytes=-1-",
           "bytes=1-2-3",
           "bytes=0-1x",
           "bytes=0-1;",
           "bytes=0-1,2-3x",
           "bytes=0-1,garbage",
           "bytes=0-1 2-3",
           "bytes=0 -1",
           "bytes=0- 1",
           "bytes=+1-2",
           "bytes=0x1-2",
           "bytes=1",
           "bytes==0-1",
           "bytes=0-1=",
       }) {
    expect_full(header);
  }
}

TEST(Range, InvalidHeaderIsIgnoredEvenIfOtherSpecsAreUnsatisfiable) {
  expect_full("bytes=500-600,x");
  expect_full("bytes=500-600,5-1");
}

TEST(Range, WhitespaceAndEmptyElementsAroundCommas) {
  EXPECT_EQ(partial("bytes=0-1,5-6"), (Ranges{{0, 1}, {5, 6}}));
  EXPECT_EQ(partial("bytes=0-1 , 5-6"), (Ranges{{0, 1}, {5, 6}}));
  EXPECT_EQ(partial("bytes=0-1\t,\t5-6"), (Ranges{{0, 1}, {5, 6}}));
  EXPECT_EQ(partial("bytes=0-1,  \t 5-6"), (Ranges{{0, 1}, {5, 6}}));
  // RFC 9110 5.6.1: empty list elements are ignored, anywhere in the list.
  EXPECT_EQ(partial("bytes=,0-1"), (Ranges{{0, 1}}));
  EXPECT_EQ(partial("bytes=, 0-1"), (Ranges{{0, 1}}));
  EXPECT_EQ(partial("bytes=0-1,"), (Ranges{{0, 1}}));
  EXPECT_EQ(partial("bytes=0-1,,, ,5-6,"), (Ranges{{0, 1}, {5, 6}}));
  EXPECT_EQ(partial("bytes=0-1 "), (Ranges{{0, 1}}));
}

TEST(Range, MaxRanges) {
  // Exactly max_ranges specs are accepted.
  std::string header = "bytes=";
  Ranges expected;
  for (std::uint64_t i = 0; i < kMaxRanges; ++i) {
    if (i > 0) header += ",";
    header += std::to_string(i * 4) + "-" + std::to_string(i * 4 + 1);
    expected.push_back({i * 4, i * 4 + 1});
  }
  EXPECT_EQ(partial(header), expected);
  // One more is ignored, whatever it is.
  expect_full(header + ",90-91");
  expect_full(header + ",500-600");
  // Empty elements do not count.
  EXPECT_EQ(partial(header + ",,,"), expected);
  EXPECT_EQ(decide("bytes=0-1,5-6", 100, 1).kind, Kind::kFull);
  EXPECT_EQ(decide("bytes=0-1", 100, 1).kind, Kind::kPartial);
  EXPECT_EQ(decide("bytes=0-1", 100, 0).kind, Kind::kFull);
}

TEST(Range, ManyRangesInAHugeHeaderAreIgnored) {
  std::string header = "bytes=0-0";
  for (int i = 0; i < 100000; ++i)
    header += ",0-0";
  EXPECT_EQ(decide(header, 1u << 30, 1000).kind, Kind::kFull);
}

TEST(Range, RangesAskingForMoreThanTheFileAreIgnored) {
  // Each range is fine, but together they ask for more bytes than the representation has:
  // the classic overlapping-ranges amplification (RFC 9110 14.2, 17.15).
  expect_full("bytes=0-,0-");
  expect_full("bytes=0-99,0-0");
  expect_full("bytes=-100,-1");
  expect_full("bytes=0-60,40-99");
  expect_full("bytes=0-0,0-0", 1);
  // Exactly the length in total is still served (and coalesced).
  EXPECT_EQ(partial("bytes=0-49,50-99"), (Ranges{{0, 99}}));
  EXPECT_EQ(partial("bytes=0-49,25-74"), (Ranges{{0, 74}}));
  // Unsatisfiable specs add nothing to the total.
  EXPECT_EQ(partial("bytes=0-99,100-200,-0"), (Ranges{{0, 99}}));
}

TEST(Range, OverlapSumDoesNotOverflow) {
  constexpr std::uint64_t kHuge = 18446744073709551615ull;  // 2^64 - 1
  expect_full("bytes=0-,0-", kHuge);
  expect_full("bytes=0-,-18446744073709551615", kHuge);
  EXPECT_EQ(partial("bytes=0-", kHuge), (Ranges{{0, kHuge - 1}}));
  EXPECT_EQ(partial("bytes=0-9223372036854775807,9223372036854775808-", kHuge),
            (Ranges{{0, kHuge - 1}}));
}

TEST(Range, CoalescesOverlappingRanges) {
  EXPECT_EQ(partial("bytes=0-10,5-15"), (Ranges{{0, 15}}));
  EXPECT_EQ(partial("bytes=0-20,5-10"), (Ranges{{0, 20}}));
  EXPECT_EQ(partial("bytes=5-10,5-10"), (Ranges{{5, 10}}));
  EXPECT_EQ(partial("bytes=10-20,-85"), (Ranges{{10, 99}}));
}

TEST(Range, CoalescesAdjacentRanges) {
  EXPECT_EQ(partial("bytes=0-4,5-9"), (Ranges{{0, 9}}));
  EXPECT_EQ(partial("bytes=0-4,5-9,10-14"), (Ranges{{0, 14}}));
  // A gap of one byte keeps them apart.
  EXPECT_EQ(partial("bytes=0-4,6-9"), (Ranges{{0, 4}, {6, 9}}));
  EXPECT_EQ(partial("bytes=0-0,2-2,4-4"), (Ranges{{0, 0}, {2, 2}, {4, 4}}));
}

// RFC 9110 15.3.7.2: the parts go out in the order their range-specs were requested; a range
// coalesced from several takes the place of the earliest of them.
TEST(Range, KeepsTheRequestedOrder) {
  EXPECT_EQ(partial("bytes=50-59,0-9"), (Ranges{{50, 59}, {0, 9}}));
  EXPECT_EQ(partial("bytes=-10,20-29,0-9"), (Ranges{{90, 99}, {20, 29}, {0, 9}}));
  EXPECT_EQ(partial("bytes=10-14,0-4,5-9"), (Ranges{{0, 14}}));
  EXPECT_EQ(partial("bytes=30-39,0-9,35-44"), (Ranges{{30, 44}, {0, 9}}));
  EXPECT_EQ(partial("bytes=0-9,60-69,30-39,40-49"), (Ranges{{0, 9}, {60, 69}, {30, 49}}));
  EXPECT_EQ(partial("bytes=80-89,0-9,85-99"), (Ranges{{80, 99}, {0, 9}}));
}

TEST(Range, Unsatisfiable) {
  expect_unsatisfiable("bytes=100-");
  expect_unsatisfiable("bytes=100-100");
  expect_unsatisfiable("bytes=100-200");
  expect_unsatisfiable("bytes=1000-2000,500-");
  expect_unsatisfiable("bytes=-0");
  expect_unsatisfiable("bytes=-0,100-");
  expect_unsatisfiable("BYTES=200-");
}

TEST(Range, SomeSatisfiableIsPartial) {
  EXPECT_EQ(partial("bytes=200-300,0-0"), (Ranges{{0, 0}}));
  EXPECT_EQ(partial("bytes=-0,-1"), (Ranges{{99, 99}}));
}

TEST(Range, ZeroLengthRepresentation) {
  for (const char* header :
       {"bytes=0-", "bytes=0-0", "bytes=0-100", "bytes=-1", "bytes=-0", "bytes=-100,0-"}) {
    expect_unsatisfiable(header, 0);
  }
  expect_full("bytes=x", 0);
  expect_full("items=0-", 0);
}

TEST(Range, OneByteRepresentation) {
  EXPECT_EQ(partial("bytes=0-", 1), (Ranges{{0, 0}}));
  EXPECT_EQ(partial("bytes=-1", 1), (Ranges{{0, 0}}));
  EXPECT_EQ(partial("bytes=-5", 1), (Ranges{{0, 0}}));
  expect_unsatisfiable("bytes=1-", 1);
}

TEST(Range, OffsetsNearTwoToThe64) {
  // 2^63 - 1 and 2^63 as first-pos on a small file: valid, unsatisfiable.
  expect_unsatisfiable("bytes=9223372036854775807-");
  expect_unsatisfiable("bytes=9223372036854775808-");
  expect_unsatisfiable("bytes=18446744073709551615-");
  expect_unsatisfiable("bytes=18446744073709551615-18446744073709551615");
  // 2^64 - 1 as last-pos is clamped.
  EXPECT_EQ(partial("bytes=0-18446744073709551615"), (Ranges{{0, 99}}));
  // Leading zeros do not count towards overflow.
  expect_unsatisfiable("bytes=0018446744073709551615-");
}

TEST(Range, LeadingZerosAreDigits) {
  EXPECT_EQ(partial("bytes=0010-0019"), (Ranges{{10, 19}}));
  EXPECT_EQ(partial("bytes=-00010"), (Ranges{{90, 99}}));
  EXPECT_EQ(partial("bytes=0000000000000000000000000000000000001-2"), (Ranges{{1, 2}}));
}

TEST(Range, OverflowingNumbersInvalidateTheHeader) {
  expect_full("bytes=0-18446744073709551616");
  expect_full("bytes=18446744073709551616-");
  expect_full("bytes=-18446744073709551616");
  expect_full("bytes=0-99999999999999999999999999");
  expect_full("bytes=0-1,18446744073709551620-18446744073709551630");
  expect_full("bytes=0-18446744073709551616", 0);
}

TEST(Range, HugeRepresentation) {
  constexpr std::uint64_t kLen = 9223372036854775808ull;  // 2^63
  EXPECT_EQ(partial("bytes=9223372036854775807-", kLen),
            (Ranges{{9223372036854775807ull, 9223372036854775807ull}}));
  EXPECT_EQ(partial("bytes=-1", kLen), (Ranges{{kLen - 1, kLen - 1}}));
  expect_unsatisfiable("bytes=9223372036854775808-", kLen);
  constexpr std::uint64_t kMaxLen = 18446744073709551615ull;  // 2^64 - 1
  EXPECT_EQ(partial("bytes=18446744073709551614-", kMaxLen), (Ranges{{kMaxLen - 1, kMaxLen - 1}}));
  expect_unsatisfiable("bytes=18446744073709551615-", kMaxLen);
  EXPECT_EQ(partial("bytes=0-0,18446744073709551614-18446744073709551615", kMaxLen),
            (Ranges{{0, 0}, {kMaxLen - 1, kMaxLen - 1}}));
}

}  // namespace
}  // namespace cork
