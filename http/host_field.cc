// is_valid_host_field: RFC 3986 authority syntax without userinfo, as RFC 9110 7.2 uses it.
#include "http/host_field.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace cork {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_hexdig(char c) {
  return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

bool is_alpha(char c) {
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

// RFC 3986 2.3: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// RFC 3986 2.2: sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "=".
bool is_sub_delim(char c) {
  return c != '\0' && std::strchr("!$&'()*+,;=", c) != nullptr;
}

// RFC 3986 3.2.2: reg-name = *( unreserved / pct-encoded / sub-delims ). IPv4address is a
// subset of it, so it needs no check of its own.
bool is_reg_name(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_unreserved(c) || is_sub_delim(c)) continue;
    if (c == '%' && i + 2 < s.size() && is_hexdig(s[i + 1]) && is_hexdig(s[i + 2])) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

// RFC 3986 3.2.2: IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ).
bool is_ipv_future(std::string_view s) {
  if (s.size() < 4 || (s[0] | 0x20) != 'v') return false;
  std::size_t i = 1;
  while (i < s.size() && is_hexdig(s[i]))
    ++i;
  if (i == 1 || i >= s.size() || s[i] != '.') return false;
  ++i;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (!is_unreserved(s[i]) && !is_sub_delim(s[i]) && s[i] != ':') return false;
  }
  return true;
}

// RFC 3986 3.2.2: the IPv6address grammar is exactly what inet_pton(AF_INET6) accepts (hex
// groups, one "::", a dotted IPv4 tail; no zone identifier).
bool is_ipv6_address(std::string_view s) {
  if (s.empty() || s.size() > 45) return false;  // INET6_ADDRSTRLEN - 1
  for (const char c : s) {
    if (!is_hexdig(c) && c != ':' && c != '.') return false;
  }
  const std::string text(s);
  in6_addr address;
  return inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

// RFC 3986 3.2.3: port = *DIGIT.
bool is_port(std::string_view s) {
  for (const char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

}  // namespace

bool is_valid_host_field(std::string_view value) {
  std::string_view rest;  // ":" port, or nothing
  if (!value.empty() && value.front() == '[') {
    const std::size_t close = value.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view literal = value.substr(1, close - 1);
    if (!is_ipv6_address(literal) && !is_ipv_future(literal)) return false;
    rest = value.substr(close + 1);
  } else {
    const std::size_t colon = value.find(':');
    if (!is_reg_name(value.substr(0, colon))) return false;
    if (colon != std::string_view::npos) rest = value.substr(colon);
  }
  return rest.empty() || (rest.front() == ':' && is_port(rest.substr(1)));
}

}  // namespace cork
