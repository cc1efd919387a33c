// Range field parsing and the 200/206/416 decision (RFC 9110 section 14). Every byte of the
// header is untrusted: nothing here may throw, assert on input or overflow; numbers are parsed
// by hand with overflow checks. Must not allocate more than max_ranges ranges for any header.
#include "http/range.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "http/ascii.h"

namespace cork {

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// RFC 9110 14.1: range-unit is a token compared case-insensitively; only "bytes" is known.
bool is_bytes_unit(std::string_view unit) {
  return equals_ignore_case(unit, "bytes");
}

// 1*DIGIT as a uint64; nullopt when empty, not all digits, or larger than 2^64 - 1.
std::optional<std::uint64_t> parse_digits(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (kMax - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// One range-spec, syntactically valid; satisfiability is decided later against the length.
struct RangeSpec {
  enum class Form { kInt, kOpen, kSuffix };
  Form form = Form::kInt;
  std::uint64_t first = 0;   // kInt, kOpen
  std::uint64_t last = 0;    // kInt
  std::uint64_t suffix = 0;  // kSuffix
};

// RFC 9110 14.1.1: int-range = first-pos "-" [ last-pos ]; suffix-range = "-" suffix-length.
// No whitespace inside (the caller has trimmed the list element).
std::optional<RangeSpec> parse_range_spec(std::string_view spec) {
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  RangeSpec out;
  if (dash == 0) {
    const auto n = parse_digits(spec.substr(1));
    if (!n) return std::nullopt;
    out.form = RangeSpec::Form::kSuffix;
    out.suffix = *n;
    return out;
  }
  const auto first = parse_digits(spec.substr(0, dash));
  if (!first) return std::nullopt;
  out.first = *first;
  const std::string_view rest = spec.substr(dash + 1);
  if (rest.empty()) {
    out.form = RangeSpec::Form::kOpen;
    return out;
  }
  const auto last = parse_digits(rest);
  // RFC 9110 14.1.1: an int-range with last-pos < first-pos is invalid.
  if (!last || *last < *first) return std::nullopt;
  out.form = RangeSpec::Form::kInt;
  out.last = *last;
  return out;
}

// RFC 9110 14.1.1 / 14.1.2: the bytes a valid range-spec selects, or nullopt if unsatisfiable.
std::optional<ByteRange> satisfy(const RangeSpec& spec, std::uint64_t length) {
  if (length == 0) return std::nullopt;
  switch (spec.form) {
    case RangeSpec::Form::kInt:
      if (spec.first >= length) return std::nullopt;
      return ByteRange{spec.first, std::min(spec.last, length - 1)};
    case RangeSpec::Form::kOpen:
      if (spec.first >= length) return std::nullopt;
      return ByteRange{spec.first, length - 1};
    case RangeSpec::Form::kSuffix:
      if (spec.suffix == 0) return std::nullopt;
      return ByteRange{spec.suffix >= length ? 0 : length - spec.suffix, length - 1};
  }
  return std::nullopt;
}

RangeDecision full() {
  return RangeDecision{RangeDecision::Kind::kFull, {}};
}

}  // namespace

RangeDecision decide_range(std::string_view header, std::uint64_t length, std::size_t max_ranges) {
  // ranges-specifier = range-unit "=" range-set (RFC 9110 14.1), no whitespace around "=".
  const std::size_t equals = header.find('=');
  if (equals == std::string_view::npos) return full();
  // RFC 9110 14.2: a server MUST ignore a Range header field with a range unit it does not
  // understand; an invalid one it MAY ignore, which cork does (200 with the whole body).
  if (!is_bytes_unit(header.substr(0, equals))) return full();
  std::string_view set = header.substr(equals + 1);
  // RFC 9110 5.6.1: 1#element = *( "," OWS ) element *( OWS "," [ OWS element ] ), so OWS may
  // only follow a comma or precede one; never right after "=".
  if (!set.empty() && is_ows(set.front())) return full();

  std::vector<ByteRange> satisfiable;
  std::size_t specs = 0;
  std::uint64_t total = 0;  // sum of satisfiable lengths, kept <= length
  while (true) {
    const std::size_t comma = set.find(',');
    const std::string_view element = trim_ows(set.substr(0, comma));
    if (!element.empty()) {  // RFC 9110 5.6.1: empty list elements are ignored
      // Counted before parsing so no header makes us parse or keep more than max_ranges specs.
      if (++specs > max_ranges) return full();
      const auto spec = parse_range_spec(element);
      if (!spec) return full();
      if (const auto range = satisfy(*spec, length)) {
        // RFC 9110 14.2 allows ignoring ranges that overlap or ask for more than the whole
        // representation; written so the sum cannot overflow (each length is <= `length`).
        if (range->length() > length - total) return full();
        total += range->length();
        satisfiable.push_back(*range);
      }
    }
    if (comma == std::string_view::npos) break;
    set.remove_prefix(comma + 1);
  }
  if (specs == 0) return full();  // range-set needs at least one range-spec
  if (satisfiable.empty()) return RangeDecision{RangeDecision::Kind::kUnsatisfiable, {}};

  // RFC 9110 14.6 / 15.3.7.2: the server may coalesce overlapping or adjacent ranges, and sends
  // the parts in the order their range-specs were requested; a coalesced range takes the place
  // of the earliest spec in it. So: merge in offset order, remembering each merged range's
  // earliest request position, then put them back in request order.
  struct Placed {
    ByteRange range;
    std::size_t position;  // index of the earliest range-spec merged into it
  };
  std::vector<Placed> placed;
  placed.reserve(satisfiable.size());
  for (std::size_t i = 0; i < satisfiable.size(); ++i)
    placed.push_back({satisfiable[i], i});
  std::sort(placed.begin(), placed.end(),
            [](const Placed& a, const Placed& b) { return a.range.first < b.range.first; });
  std::vector<Placed> merged;
  for (const Placed& p : placed) {
    // last < length <= 2^64 - 1, so last + 1 cannot overflow.
    if (!merged.empty() && p.range.first <= merged.back().range.last + 1) {
      merged.back().range.last = std::max(merged.back().range.last, p.range.last);
      merged.back().position = std::min(merged.back().position, p.position);
    } else {
      merged.push_back(p);
    }
  }
  std::sort(merged.begin(), merged.end(),
            [](const Placed& a, const Placed& b) { return a.position < b.position; });
  RangeDecision decision{RangeDecision::Kind::kPartial, {}};
  decision.ranges.reserve(merged.size());
  for (const Placed& p : merged)
    decision.ranges.push_back(p.range);
  return decision;
}

}  // namespace cork
