// OWS trimming (the comparison is inline in the header), shared by every parser of http/ and
// server/.
#include "http/ascii.h"

namespace cork {

std::string_view trim_leading_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front()))
    s.remove_prefix(1);
  return s;
}

std::string_view trim_trailing_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.back()))
    s.remove_suffix(1);
  return s;
}

std::string_view trim_ows(std::string_view s) {
  return trim_trailing_ows(trim_leading_ows(s));
}

}  // namespace cork
