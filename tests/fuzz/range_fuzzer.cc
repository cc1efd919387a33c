// Fuzz target: one untrusted header value -> every pure parser of a header value in http/:
// Range (decide_range, then the multipart/byteranges layout of a 206), Accept-Encoding
// (parse_qvalue, accepts_coding, coding_weights), entity-tag lists (list_matches, strong_match)
// and HTTP dates (parse_http_date). Checks the invariants their callers rely on.
// Built with libFuzzer (CORK_FUZZ=ON) and, in every build, into a corpus replay test.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "http/accept_encoding.h"
#include "http/entity_tag.h"
#include "http/http_date.h"
#include "http/multipart.h"
#include "http/range.h"

namespace cork::fuzz {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// The body layout of RFC 9110 14.6 as multipart.h promises it, with an exact Content-Length.
void check_multipart(const std::vector<ByteRange>& ranges, std::uint64_t length,
                     std::string_view content_type) {
  const std::string boundary = make_boundary(length ^ ranges.size());
  const MultipartBody body = build_multipart_byteranges(ranges, length, content_type, boundary);
  CORK_FUZZ_CHECK(body.parts.size() == ranges.size());
  const std::string delimiter = "--" + boundary + "\r\n";
  unsigned __int128 expected = 0;  // cannot overflow, unlike a uint64_t sum near 2^64
  for (std::size_t i = 0; i < body.parts.size(); ++i) {
    const MultipartPart& part = body.parts[i];
    CORK_FUZZ_CHECK(part.range == ranges[i]);
    CORK_FUZZ_CHECK(part.head.starts_with("\r\n" + delimiter));
    CORK_FUZZ_CHECK(part.head.ends_with("/" + std::to_string(length) + "\r\n\r\n"));
    CORK_FUZZ_CHECK((part.head.find("Content-Type: ") != std::string::npos) ==
                    !content_type.empty());
    expected += part.head.size();
    expected += part.range.length();
  }
  CORK_FUZZ_CHECK(body.tail == "\r\n--" + boundary + "--\r\n");
  expected += body.tail.size();
  // A representation is a file, so its length is an off_t (< 2^63) and the sum always fits.
  // For the larger lengths fuzzed here the sum can exceed 2^64 - 1; content_length is then
  // not representable and only the exact cases are checked.
  if (expected <= kMax)
    CORK_FUZZ_CHECK(body.content_length == static_cast<std::uint64_t>(expected));
}

void check_ranges(std::string_view value, std::string_view content_type) {
  for (std::uint64_t length :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{100}, std::uint64_t{1} << 63, kMax}) {
    for (std::size_t max_ranges : {std::size_t{1}, std::size_t{16}}) {
      const RangeDecision d = decide_range(value, length, max_ranges);
      check_range_decision(d, length, max_ranges);
      if (d.kind == RangeDecision::Kind::kPartial) check_multipart(d.ranges, length, content_type);
    }
  }
}

void check_accept_encoding(std::string_view value) {
  if (const auto q = parse_qvalue(value)) CORK_FUZZ_CHECK(*q >= 0 && *q <= 1000);
  for (std::string_view coding : {"gzip", "br", "identity", "compress"}) {
    accepts_coding(value, coding);
  }
  // Codings compare case-insensitively (RFC 9110 8.4.1), whichever side spells them in capitals.
  CORK_FUZZ_CHECK(accepts_coding(value, "gzip") == accepts_coding(value, "GZIP"));
  // An empty field value accepts no coding (RFC 9110 12.5.3).
  if (value.empty()) CORK_FUZZ_CHECK(!accepts_coding(value, "gzip"));
  // The one-pass weights agree with each coding's own, and stay within 0..1000.
  const CodingWeights w = coding_weights(value);
  CORK_FUZZ_CHECK(w.br == coding_weight(value, "br"));
  CORK_FUZZ_CHECK(w.gzip == coding_weight(value, "gzip"));
  CORK_FUZZ_CHECK(w.zstd == coding_weight(value, "zstd"));
  CORK_FUZZ_CHECK(w.identity == coding_weight(value, "identity"));
  for (const int q : {w.br, w.gzip, w.zstd, w.identity})
    CORK_FUZZ_CHECK(q >= 0 && q <= 1000);
}

void check_entity_tags(std::string_view value) {
  for (std::string_view current : {std::string_view("\"2ebc98a1-64\""), std::string_view("\"\"")}) {
    const bool strong = list_matches(value, current, /*weak=*/false);
    const bool weak = list_matches(value, current, /*weak=*/true);
    // RFC 9110 8.8.3.2: whatever matches strongly also matches weakly.
    if (strong) CORK_FUZZ_CHECK(weak);
    // A single tag that matches is also a list of one tag that matches, strongly and weakly.
    if (strong_match(value, current)) CORK_FUZZ_CHECK(strong && weak);
    // Comparison is symmetric.
    CORK_FUZZ_CHECK(strong_match(value, current) == strong_match(current, value));
  }
}

void check_date(std::string_view value) {
  const auto t = parse_http_date(value);
  if (!t) return;
  // Whatever form was parsed, formatting it gives an IMF-fixdate that parses to the same time.
  const std::string fixdate = format_http_date(*t);
  CORK_FUZZ_CHECK(fixdate.size() == kHttpDateLength);
  CORK_FUZZ_CHECK(fixdate.ends_with(" GMT"));
  const auto again = parse_http_date(fixdate);
  CORK_FUZZ_CHECK(again.has_value() && *again == *t);
}

}  // namespace
}  // namespace cork::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cork::fuzz;
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  check_ranges(value, size % 2 == 0 ? "text/plain; charset=utf-8" : "");
  check_accept_encoding(value);
  check_entity_tags(value);
  check_date(value);
  return 0;
}
