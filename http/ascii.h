// ASCII helpers for protocol tokens: case-insensitive comparison and OWS trimming. HTTP field
// names, schemes and codings are ASCII and case-insensitive (RFC 9110 5.1, 4.2.3); these never
// consult the locale, so "I" and "i" match everywhere and nothing else does.
#pragma once

#include <cstddef>
#include <string_view>

namespace cork {

// 'A'..'Z' to 'a'..'z'; every other byte unchanged.
constexpr char to_lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// True when `a` and `b` are equal but for the case of ASCII letters. Inline: every field lookup
// of a request compares names with it (tests/bench/PERFORMANCE.md).
constexpr bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower_ascii(a[i]) != to_lower_ascii(b[i])) return false;
  }
  return true;
}

// RFC 9110 5.6.3: OWS = *( SP / HTAB ).
constexpr bool is_ows(char c) {
  return c == ' ' || c == '\t';
}
// `s` without leading OWS.
std::string_view trim_leading_ows(std::string_view s);
// `s` without trailing OWS.
std::string_view trim_trailing_ows(std::string_view s);
// `s` without leading and trailing OWS.
std::string_view trim_ows(std::string_view s);

}  // namespace cork
