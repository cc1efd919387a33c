// AddressFilter: CIDR parsing and matching, loopback-only default, IPv4-mapped IPv6 clients.
#include "server/address_filter.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "server/address.h"

namespace cork {
namespace {

sockaddr_storage peer(const std::string& text) {
  const std::optional<IpAddress> address = parse_ip_address(text);
  EXPECT_TRUE(address) << text;
  return address ? socket_address(*address, 0).storage : sockaddr_storage{};
}

AddressFilter filter(const std::string& text) {
  AddressFilter f;
  std::string error;
  EXPECT_TRUE(AddressFilter::parse(text, f, error)) << error;
  return f;
}

TEST(AddressFilter, EmptyMeansLoopbackOnly) {
  const AddressFilter f = filter("");
  EXPECT_TRUE(f.allows(peer("127.0.0.1")));
  EXPECT_TRUE(f.allows(peer("127.8.9.10")));
  EXPECT_TRUE(f.allows(peer("::1")));
  EXPECT_TRUE(f.allows(peer("::ffff:127.0.0.1")));
  EXPECT_FALSE(f.allows(peer("10.0.0.1")));
  EXPECT_FALSE(f.allows(peer("::2")));
  EXPECT_FALSE(f.allows(peer("::ffff:10.0.0.1")));
}

TEST(AddressFilter, ListedNetworks) {
  const AddressFilter f = filter("10.0.0.0/8, 192.0.2.7 ,2001:db8::/32");
  EXPECT_TRUE(f.allows(peer("10.255.0.1")));
  EXPECT_TRUE(f.allows(peer("::ffff:10.1.2.3")));
  EXPECT_TRUE(f.allows(peer("192.0.2.7")));
  EXPECT_FALSE(f.allows(peer("192.0.2.8")));
  EXPECT_TRUE(f.allows(peer("2001:db8:1::5")));
  EXPECT_FALSE(f.allows(peer("2001:db9::5")));
  EXPECT_FALSE(f.allows(peer("127.0.0.1")));  // listed networks replace the default
  const AddressFilter odd = filter("172.16.0.0/12");
  EXPECT_TRUE(odd.allows(peer("172.31.255.255")));
  EXPECT_FALSE(odd.allows(peer("172.32.0.0")));
  EXPECT_TRUE(filter("0.0.0.0/0").allows(peer("8.8.8.8")));
}

TEST(AddressFilter, RejectsMalformedNetworks) {
  AddressFilter f;
  std::string error;
  EXPECT_FALSE(AddressFilter::parse("10.0.0.0/33", f, error));
  EXPECT_FALSE(AddressFilter::parse("::/129", f, error));
  EXPECT_FALSE(AddressFilter::parse("example.com", f, error));
  EXPECT_FALSE(AddressFilter::parse("10.0.0.0/", f, error));
  EXPECT_FALSE(AddressFilter::parse("10.0.0.0/8x", f, error));
  EXPECT_NE(error, "");
}

}  // namespace
}  // namespace cork
