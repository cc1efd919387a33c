// Byte ranges (RFC 9110 section 14): decides from a Range field value and the selected
// representation's length whether to send the whole representation (200), some ranges of it
// (206) or nothing (416). Pure: no I/O, no allocation beyond the result, never throws on the
// untrusted header. It does not evaluate If-Range (the caller does, RFC 9110 13.1.5) and does
// not look at the method (Range applies to GET only, RFC 9110 14.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace cork {

// Copyable value: inclusive byte offsets, first <= last < representation length.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t length() const { return last - first + 1; }
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

// Copyable value: what to send.
struct RangeDecision {
  enum class Kind { kFull, kPartial, kUnsatisfiable };
  Kind kind = Kind::kFull;
  // kPartial only: in the order requested, non-overlapping, non-adjacent, non-empty. One range
  // means a single-part 206; more mean multipart/byteranges (RFC 9110 14.6).
  std::vector<ByteRange> ranges;
};

// `header` is the Range field value; `length` the selected representation's size.
//  - kFull: the header is invalid, uses another unit, has a number that overflows 64 bits,
//    has more than `max_ranges` range-specs, or asks for more bytes in total than the
//    representation holds (RFC 9110 14.2: a server MAY ignore Range; these are the defences
//    against many-small-ranges and overlapping-ranges abuse).
//  - kUnsatisfiable: the header is valid but no range-spec is satisfiable (RFC 9110 14.1.1,
//    15.5.17); always the case for an empty representation.
//  - kPartial: the satisfiable ranges with overlapping or adjacent ones merged (RFC 9110 14.6
//    allows coalescing), in the order they were requested (RFC 9110 15.3.7.2); a merged range
//    stands where the earliest of its range-specs stood.
RangeDecision decide_range(std::string_view header, std::uint64_t length, std::size_t max_ranges);

}  // namespace cork
