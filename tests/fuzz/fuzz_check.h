// Checks shared by the fuzz targets: a CHECK that works without gtest and without libFuzzer
// (it prints the broken invariant and aborts, which libFuzzer and the corpus replay both report
// as a crash), and the invariants of a RangeDecision that every caller of decide_range relies on.
// Test code only: never linked into cork.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "http/range.h"

#define CORK_FUZZ_CHECK(condition)                                                           \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)

namespace cork::fuzz {

// RFC 9110 14 as range.h promises it: kPartial ranges are non-empty, inside the representation,
// ascending, non-overlapping and non-adjacent (coalesced), at most max_ranges of them and
// together no larger than the representation; the other kinds carry no ranges, and an empty
// representation never gets a 206.
inline void check_range_decision(const RangeDecision& d, std::uint64_t length,
                                 std::size_t max_ranges) {
  if (d.kind != RangeDecision::Kind::kPartial) {
    CORK_FUZZ_CHECK(d.ranges.empty());
    return;
  }
  CORK_FUZZ_CHECK(length > 0);
  CORK_FUZZ_CHECK(!d.ranges.empty());
  CORK_FUZZ_CHECK(d.ranges.size() <= max_ranges);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < d.ranges.size(); ++i) {
    const ByteRange& r = d.ranges[i];
    CORK_FUZZ_CHECK(r.first <= r.last);
    CORK_FUZZ_CHECK(r.last < length);
    // Overlapping and adjacent ranges are merged (they stay in request order, not sorted): a gap
    // of at least one byte separates any two of them.
    for (std::size_t j = 0; j < i; ++j) {
      const ByteRange& o = d.ranges[j];
      CORK_FUZZ_CHECK(r.first > o.last + 1 || o.first > r.last + 1);
    }
    CORK_FUZZ_CHECK(r.length() <= length - total);  // total + length <= size, without overflow
    total += r.length();
  }
  CORK_FUZZ_CHECK(total <= length);
}

}  // namespace cork::fuzz
