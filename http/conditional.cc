// Conditional requests: the RFC 9110 13.2.2 evaluation order over a RequestHead.
// Must not look at the file system or the clock, and must not let a malformed header turn a
// failed precondition into a success (malformed If-Match fails, malformed If-None-Match does
// not match).
#include "http/conditional.h"

#include <optional>
#include <string>

#include "http/ascii.h"
#include "http/entity_tag.h"
#include "http/http_date.h"

namespace cork {

namespace {

// The date of a singleton date field, or nullopt when absent, repeated or unparsable
// (RFC 9110 13.1.3, 13.1.4: such a field is ignored).
std::optional<std::time_t> single_date(const RequestHead& request, std::string_view name) {
  if (request.count(name) != 1) return std::nullopt;
  return parse_http_date(*request.header(name));
}

}  // namespace

Precondition evaluate_preconditions(const RequestHead& request, const Validators& v) {
  // Step 1: If-Match, strong comparison (RFC 9110 13.1.1).
  if (const auto if_match = request.combined("If-Match")) {
    if (!list_matches(*if_match, v.etag, /*weak=*/false)) return Precondition::kFailed;
  } else if (const auto date = single_date(request, "If-Unmodified-Since")) {
    // Step 2: only without If-Match (RFC 9110 13.1.4).
    if (v.last_modified > *date) return Precondition::kFailed;
  }
  // Step 3: If-None-Match, weak comparison (RFC 9110 13.1.2); 304 because this is GET/HEAD.
  if (const auto if_none_match = request.combined("If-None-Match")) {
    if (list_matches(*if_none_match, v.etag, /*weak=*/true)) return Precondition::kNotModified;
  } else if (const auto date = single_date(request, "If-Modified-Since")) {
    // Step 4: only without If-None-Match (RFC 9110 13.1.3).
    if (v.last_modified <= *date) return Precondition::kNotModified;
  }
  return Precondition::kProceed;
}

bool if_range_allows(const RequestHead& request, const Validators& v) {
  const std::size_t n = request.count("If-Range");
  if (n == 0) return true;
  // If-Range is a singleton; several fields cannot be one validator.
  if (n > 1) return false;
  const std::string_view value = trim_leading_ows(*request.header("If-Range"));
  // RFC 9110 13.1.5 step 1: an entity-tag (it starts with DQUOTE or "W/"; an HTTP-date never
  // does) matches only by strong comparison, so a weak tag is always false.
  if (value.starts_with('"') || value.starts_with("W/")) return strong_match(value, v.etag);
  // Step 2: an HTTP-date must equal Last-Modified exactly, and Last-Modified must be strong:
  // the file was last modified at least a second before this response's Date, so it cannot
  // have changed twice within the second the date names (RFC 9110 8.8.2.2).
  if (const auto date = parse_http_date(value)) {
    return *date == v.last_modified && v.now > v.last_modified;
  }
  // Step 3: anything else is false.
  return false;
}

}  // namespace cork
