// AddressFilter: which client addresses may see the status page. A list of networks in CIDR
// notation ("10.0.0.0/8, ::1/128, 192.0.2.7"); an empty list means loopback only
// (127.0.0.0/8 and ::1, also as IPv4-mapped IPv6). A copyable value.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cork {

class AddressFilter {
 public:
  // Parses "a/b, c/d"; false with `error` set on a malformed network.
  static bool parse(std::string_view text, AddressFilter& out, std::string& error);

  bool allows(const sockaddr_storage& peer) const;

 private:
  struct Network {
    int family = 0;  // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> bytes{};
    unsigned prefix = 0;
  };
  static bool matches(const Network& network, int family, const std::uint8_t* address);
  std::vector<Network> networks_;
};

}  // namespace cork
