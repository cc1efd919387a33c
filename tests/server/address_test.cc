// server/address: numeric address parsing, socket addresses, "host:port" text and URL authority
// splitting. Pure functions: no socket is opened.
#include "server/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace cork {
namespace {

TEST(ParseIpAddress, Ipv4) {
  const auto a = parse_ip_address("192.0.2.7");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->family, AF_INET);
  EXPECT_EQ(a->bytes[0], 192);
  EXPECT_EQ(a->bytes[1], 0);
  EXPECT_EQ(a->bytes[2], 2);
  EXPECT_EQ(a->bytes[3], 7);
}

TEST(ParseIpAddress, Ipv6) {
  const auto a = parse_ip_address("2001:db8::1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->family, AF_INET6);
  EXPECT_EQ(a->bytes[0], 0x20);
  EXPECT_EQ(a->bytes[1], 0x01);
  EXPECT_EQ(a->bytes[2], 0x0d);
  EXPECT_EQ(a->bytes[3], 0xb8);
  EXPECT_EQ(a->bytes[15], 1);
  const auto mapped = parse_ip_address("::ffff:10.0.0.1");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->family, AF_INET6);
  EXPECT_EQ(mapped->bytes[10], 0xff);
  EXPECT_EQ(mapped->bytes[12], 10);
  // The longest form there is (45 characters).
  EXPECT_TRUE(parse_ip_address("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"));
}

TEST(ParseIpAddress, RejectsEverythingElse) {
  for (const std::string& text : std::initializer_list<std::string>{
           "", "localhost", "example.com", "[::1]", "127.0.0.1:80", "::1%lo", "256.0.0.1", "1.2.3",
           " 127.0.0.1", "127.0.0.1 ", "::1::2", std::string(100, '1')}) {
    EXPECT_FALSE(parse_ip_address(text)) << text;
  }
  // An embedded NUL must not let the part before it through.
  EXPECT_FALSE(parse_ip_address(std::string("127.0.0.1\0junk", 14)));
}

TEST(SocketAddress, Ipv4) {
  const SocketAddress s = socket_address(*parse_ip_address("127.0.0.1"), 8080);
  EXPECT_EQ(s.family(), AF_INET);
  EXPECT_EQ(s.length, sizeof(sockaddr_in));
  const auto& v4 = reinterpret_cast<const sockaddr_in&>(s.storage);
  EXPECT_EQ(ntohs(v4.sin_port), 8080);
  EXPECT_EQ(ntohl(v4.sin_addr.s_addr), INADDR_LOOPBACK);
  EXPECT_EQ(port_of(s.storage), 8080);
}

TEST(SocketAddress, Ipv6) {
  const SocketAddress s = socket_address(*parse_ip_address("::1"), 65535);
  EXPECT_EQ(s.family(), AF_INET6);
  EXPECT_EQ(s.length, sizeof(sockaddr_in6));
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(s.storage);
  EXPECT_EQ(ntohs(v6.sin6_port), 65535);
  EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr));
  EXPECT_EQ(port_of(s.storage), 65535);
}

TEST(SocketAddress, PortOfAnotherFamilyIsZero) {
  sockaddr_storage unix_address{};
  unix_address.ss_family = AF_UNIX;
  EXPECT_EQ(port_of(unix_address), 0);
}

TEST(FormatHostPort, BracketsIpv6Only) {
  EXPECT_EQ(format_host_port("127.0.0.1", 80), "127.0.0.1:80");
  EXPECT_EQ(format_host_port("::1", 8080), "[::1]:8080");
  EXPECT_EQ(format_host_port("localhost", 0), "localhost:0");
}

std::string split_error(std::string_view authority) {
  HostPort out;
  std::string error;
  EXPECT_FALSE(split_host_port(authority, out, error)) << authority;
  EXPECT_EQ(error.find('\n'), std::string::npos);
  return error;
}

TEST(SplitHostPort, Parts) {
  struct Row {
    std::string_view authority;
    std::string_view host;
    bool bracketed;
    bool has_port;
    std::string_view port;
  };
  const Row rows[] = {
      {"127.0.0.1:8080", "127.0.0.1", false, true, "8080"},
      {"localhost", "localhost", false, false, ""},
      {"host:", "host", false, true, ""},  // "host:" means the default port
      // Unbracketed, the first ':' ends the host (so an IPv6 literal needs brackets).
      {"::1:80", "", false, true, ":1:80"},
      {"", "", false, false, ""},
      {"[::1]:9000", "::1", true, true, "9000"},
      {"[2001:db8::1]", "2001:db8::1", true, false, ""},
      {"[::1]:", "::1", true, true, ""},
  };
  for (const Row& row : rows) {
    HostPort out;
    std::string error;
    ASSERT_TRUE(split_host_port(row.authority, out, error)) << row.authority << ": " << error;
    EXPECT_EQ(out.host, row.host) << row.authority;
    EXPECT_EQ(out.bracketed, row.bracketed) << row.authority;
    EXPECT_EQ(out.has_port, row.has_port) << row.authority;
    EXPECT_EQ(out.port, row.port) << row.authority;
  }
}

TEST(SplitHostPort, Errors) {
  EXPECT_NE(split_error("[::1").find("unterminated IPv6 address in '[::1'"), std::string::npos);
  EXPECT_NE(split_error("[127.0.0.1]").find("'127.0.0.1' is not an IPv6 address"),
            std::string::npos);
  EXPECT_NE(split_error("[]").find("is not an IPv6 address"), std::string::npos);
  EXPECT_NE(split_error("[::1]x").find("unexpected 'x' after the IPv6 address"), std::string::npos);
  // The address is checked before what follows it.
  EXPECT_NE(split_error("[nope]x").find("not an IPv6 address"), std::string::npos);
}

TEST(ParsePort, OneTo65535InDigitsOnly) {
  EXPECT_EQ(parse_port("1"), 1);
  EXPECT_EQ(parse_port("8080"), 8080);
  EXPECT_EQ(parse_port("65535"), 65535);
  EXPECT_EQ(parse_port("080"), 80);
  for (const char* text : {"", "0", "65536", "-1", "+80", " 80", "80 ", "8o", "99999999999"}) {
    EXPECT_FALSE(parse_port(text)) << text;
  }
}

}  // namespace
}  // namespace cork
