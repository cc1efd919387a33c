// The syntax of a Host field value (RFC 9110 7.2: Host = uri-host [ ":" port ], with uri-host
// and port from RFC 3986 3.2.2 and 3.2.3). Pure: says whether bytes are well formed; it does not
// resolve names or match virtual hosts (server/address.h splits host and port for that).
#pragma once

#include <string_view>

namespace cork {

// True when `value` (a Host field value without surrounding whitespace) is
//   ( IP-literal / IPv4address / reg-name ) [ ":" *DIGIT ]
// IP-literal is "[" IPv6address "]" or "[" IPvFuture "]"; reg-name is unreserved, pct-encoded
// and sub-delims, possibly empty (RFC 9112 3.2: an empty Host is what a client sends when the
// target URI has no authority); an empty port after the colon is allowed by RFC 3986 3.2.3.
bool is_valid_host_field(std::string_view value);

}  // namespace cork
