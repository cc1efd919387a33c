// HTTP dates (RFC 9110 5.6.7): formatting as IMF-fixdate, parsing of all three historic forms.
// Pure functions: no clock, no locale, no global state.
#pragma once

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace cork {

// Length of an IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
inline constexpr std::size_t kHttpDateLength = 29;

// Formats `t` (seconds since the epoch, UTC) as an IMF-fixdate.
std::string format_http_date(std::time_t t);
// The same into `out` (kHttpDateLength bytes, no NUL), without an allocation.
void write_http_date(std::time_t t, char* out);

// Parses an IMF-fixdate, the obsolete RFC 850 form ("Sunday, 06-Nov-94 08:49:37 GMT") or the
// asctime form ("Sun Nov  6 08:49:37 1994"). std::nullopt for anything else (RFC 9110 5.6.7:
// a recipient that cannot parse a date treats it as invalid).
std::optional<std::time_t> parse_http_date(std::string_view text);

}  // namespace cork
