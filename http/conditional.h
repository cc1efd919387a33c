// Conditional requests (RFC 9110 13): deciding from If-Match, If-Unmodified-Since,
// If-None-Match, If-Modified-Since and If-Range whether a GET or HEAD of an existing file
// proceeds, answers 304 or 412, and whether its Range is honoured.
// Pure functions of the request head and the file's validators: no file system, no clock (the
// caller passes `now`). Header values are untrusted: anything malformed is handled as the RFC
// says (ignored, or matching nothing), never thrown or asserted on.
#pragma once

#include <cstdint>
#include <ctime>
#include <string_view>

#include "http/request.h"

namespace cork {

// The validators of the selected representation. Copyable value; `etag` borrows its bytes.
struct Validators {
  std::string_view etag;  // strong tag of the selected representation, quotes included
  std::time_t last_modified = 0;
  std::time_t now = 0;  // the response's Date, for the strong-date rule of If-Range
};

enum class Precondition : std::uint8_t {
  kProceed,      // serve normally (then consult if_range_allows for a Range)
  kNotModified,  // 304
  kFailed,       // 412
};

// RFC 9110 13.2.2 steps 1-4, for GET and HEAD only (cork serves nothing else; for other
// methods step 3 would answer 412 and step 4 would not apply).
// 1. If-Match (strong comparison, "*" matches) does not match -> kFailed.
// 2. Without If-Match: If-Unmodified-Since with a valid date and last_modified > date -> kFailed.
// 3. If-None-Match (weak comparison, "*" matches) matches -> kNotModified.
// 4. Without If-None-Match: If-Modified-Since with a valid date and last_modified <= date
//    -> kNotModified.
// Several If-Match / If-None-Match fields are combined into one list (RFC 9110 5.3). A date
// that does not parse, or a date field that occurs more than once, is ignored
// (RFC 9110 13.1.3, 13.1.4).
Precondition evaluate_preconditions(const RequestHead& request, const Validators& v);

// RFC 9110 13.2.2 step 5 / 13.1.5: should the Range be honoured? No If-Range -> true.
// An entity-tag -> strong comparison with v.etag (a weak tag never matches). An HTTP-date ->
// true only if it equals last_modified exactly and last_modified is a strong validator, i.e.
// at least one second before `now` (RFC 9110 8.8.2.2). Anything else, including several
// If-Range fields -> false: send the whole representation.
bool if_range_allows(const RequestHead& request, const Validators& v);

}  // namespace cork
