// Numeric addresses: inet_pton(3) into IpAddress, IpAddress into sockaddr_in/sockaddr_in6, and
// the authority splitting of http:// URLs.
#include "server/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace cork {

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  // inet_pton wants a NUL-terminated string; the longest IPv6 text is 45 characters
  // ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255").
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.size() >= sizeof buffer || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress address;
  if (::inet_pton(AF_INET, buffer, address.bytes.data()) == 1) {
    address.family = AF_INET;
  } else if (::inet_pton(AF_INET6, buffer, address.bytes.data()) == 1) {
    address.family = AF_INET6;
  } else {
    return std::nullopt;
  }
  return address;
}

SocketAddress socket_address(const IpAddress& address, int port) {
  SocketAddress out;
  const auto network_port = htons(static_cast<std::uint16_t>(port));
  if (address.family == AF_INET6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = network_port;
    std::memcpy(&v6->sin6_addr, address.bytes.data(), 16);
    out.length = sizeof *v6;
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    v4->sin_family = AF_INET;
    v4->sin_port = network_port;
    std::memcpy(&v4->sin_addr, address.bytes.data(), 4);
    out.length = sizeof *v4;
  }
  return out;
}

int port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  }
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  }
  return 0;
}

std::string format_host_port(std::string_view host, int port) {
  // Only an IPv6 literal contains ':' (RFC 3986 3.2.2: it must be bracketed before a port).
  return host.find(':') != std::string_view::npos ? fmt::format("[{}]:{}", host, port)
                                                  : fmt::format("{}:{}", host, port);
}

bool split_host_port(std::string_view authority, HostPort& out, std::string& error) {
  HostPort parsed;
  std::string_view after_host;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = fmt::format("unterminated IPv6 address in '{}'", authority);
      return false;
    }
    parsed.host = authority.substr(1, close - 1);
    parsed.bracketed = true;
    const std::optional<IpAddress> address = parse_ip_address(parsed.host);
    if (!address || address->family != AF_INET6) {
      error = fmt::format("'{}' is not an IPv6 address", parsed.host);
      return false;
    }
    after_host = authority.substr(close + 1);
    if (!after_host.empty() && after_host.front() != ':') {
      error = fmt::format("unexpected '{}' after the IPv6 address", after_host);
      return false;
    }
  } else {
    const std::size_t colon = authority.find(':');
    parsed.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) after_host = authority.substr(colon);
  }
  if (!after_host.empty()) {
    parsed.has_port = true;
    parsed.port = after_host.substr(1);
  }
  out = parsed;
  return true;
}

std::optional<int> parse_port(std::string_view text) {
  unsigned port = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || port < 1 ||
      port > 65535) {
    return std::nullopt;
  }
  return static_cast<int>(port);
}

}  // namespace cork
