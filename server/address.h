// Numeric IP addresses, socket addresses and "host:port" text, for the listener, the probe, the
// config and the status-page address filter. Numeric only: nothing here looks a name up, so no
// caller can hang on DNS. Pure functions (inet_pton(3) does the parsing); no sockets are opened.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cork {

// An IPv4 or IPv6 address. Copyable value.
struct IpAddress {
  int family = AF_UNSPEC;                // AF_INET or AF_INET6 once parsed
  std::array<std::uint8_t, 16> bytes{};  // network byte order; AF_INET uses the first 4
};

// An IPv4 dotted quad ("127.0.0.1") or an IPv6 literal without brackets ("::1",
// "::ffff:10.0.0.1"), as inet_pton(3) reads them; nullopt for anything else (a name, brackets,
// a port, a zone id, an embedded NUL).
std::optional<IpAddress> parse_ip_address(std::string_view text);

// A socket address for bind(2) and connect(2). Copyable value.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// `address` with `port` (0..65535; 0 lets bind(2) choose).
SocketAddress socket_address(const IpAddress& address, int port);

// The port of an AF_INET or AF_INET6 socket address; 0 for any other family.
int port_of(const sockaddr_storage& address);

// "HOST:PORT", with the host in brackets when it is an IPv6 literal ("[::1]:8080").
std::string format_host_port(std::string_view host, int port);

// The parts of a URL authority without user information (RFC 3986 3.2.2, 3.2.3). Copyable
// value; the views borrow the authority's bytes.
struct HostPort {
  std::string_view host;   // without brackets
  bool bracketed = false;  // the host was "[...]": then it is an IPv6 literal
  bool has_port = false;   // a ':' follows the host
  std::string_view port;   // the text after that ':'; empty in "host:" (the default port)
};

// Splits "HOST[:PORT]" (at the first ':') or "[IPV6][:PORT]". A bracketed host must be an IPv6
// literal; an unbracketed one is not checked (the caller knows which names it accepts). On
// error returns false and sets `error` (one line).
bool split_host_port(std::string_view authority, HostPort& out, std::string& error);

// A port in 1..65535 written as decimal digits only (no sign, no spaces); nullopt otherwise.
std::optional<int> parse_port(std::string_view text);

}  // namespace cork
