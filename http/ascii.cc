// ASCII comparison and OWS trimming, shared by every parser of http/ and server/.
#include "http/ascii.h"

namespace cork {

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower_ascii(a[i]) != to_lower_ascii(b[i])) return false;
  }
  return true;
}

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
