// AddressFilter: CIDR parsing with inet_pton and prefix comparison byte by byte.
#include "server/address_filter.h"

#include <netinet/in.h>

#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "http/ascii.h"
#include "server/address.h"

namespace cork {

bool AddressFilter::parse(std::string_view text, AddressFilter& out, std::string& error) {
  AddressFilter parsed;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = trim_ows(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    const std::size_t slash = item.find('/');
    const std::optional<IpAddress> address = parse_ip_address(item.substr(0, slash));
    if (!address) {
      error = fmt::format("'{}' is not an IPv4 or IPv6 network", item);
      return false;
    }
    Network network;
    network.family = address->family;
    network.bytes = address->bytes;
    const unsigned max_prefix = address->family == AF_INET ? 32 : 128;
    network.prefix = max_prefix;
    if (slash != std::string_view::npos) {
      const std::string_view digits = item.substr(slash + 1);
      unsigned prefix = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() ||
          prefix > max_prefix) {
        error = fmt::format("'{}': the prefix length must be 0..{}", item, max_prefix);
        return false;
      }
      network.prefix = prefix;
    }
    parsed.networks_.push_back(network);
  }
  out = std::move(parsed);
  return true;
}

bool AddressFilter::matches(const Network& network, int family, const std::uint8_t* address) {
  if (network.family != family) return false;
  unsigned bits = network.prefix;
  for (std::size_t i = 0; bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - take));
    if ((address[i] & mask) != (network.bytes[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

bool AddressFilter::allows(const sockaddr_storage& peer) const {
  std::uint8_t v4[4];
  const std::uint8_t* address = nullptr;
  int family = peer.ss_family;
  if (family == AF_INET) {
    std::memcpy(v4, &reinterpret_cast<const sockaddr_in&>(peer).sin_addr, 4);
    address = v4;
  } else if (family == AF_INET6) {
    const auto& a6 = reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {  // ::ffff:a.b.c.d is the IPv4 client a.b.c.d
      std::memcpy(v4, a6.s6_addr + 12, 4);
      address = v4;
      family = AF_INET;
    } else {
      address = a6.s6_addr;
    }
  } else {
    return false;
  }
  if (networks_.empty()) {
    if (family == AF_INET) return address[0] == 127;
    static const std::uint8_t kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(address, kLoopback6, 16) == 0;
  }
  for (const Network& network : networks_) {
    if (matches(network, family, address)) return true;
  }
  return false;
}

}  // namespace cork
