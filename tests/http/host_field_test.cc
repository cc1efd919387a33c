// is_valid_host_field: RFC 9110 7.2 Host = uri-host [ ":" port ] (RFC 3986 3.2.2, 3.2.3).
#include "http/host_field.h"

#include <gtest/gtest.h>

namespace cork {
namespace {

TEST(HostField, AcceptsEveryFormOfUriHostWithAnOptionalPort) {
  for (const char* host :
       {"example.com", "example.com:8080", "example.com:", "127.0.0.1:80", "[::1]",
        "[::1]:", "[2001:db8::7]:443", "[::ffff:192.0.2.1]", "[v7.fe80::a+en1]", "[V1F.x]",
        "ex%41mple", "ex%4a", "a-b.c_d~", "!$&'()*+,;=", ":80", "", "localhost:00000080"}) {
    EXPECT_TRUE(is_valid_host_field(host)) << host;
  }
}

TEST(HostField, RefusesWhatIsNotUriHost) {
  for (const char* host : {"a b",         "example/x",
                           "user@host",   "host:8x",
                           "ho<st>",      "[::1",
                           "::1",         "[::g]",
                           "[]",          "[::1]x",
                           "[::1]:8x",    "[::1]]",
                           "[[::1]]",     "[fe80::1%25eth0]",
                           "ex%4",        "ex%",
                           "ex%zz",       "host:80:80",
                           "a?b",         "a#b",
                           "h\"q",        "h\\q",
                           "caf\xc3\xa9", "h{x}",
                           "[v1]",        "[vx.a]",
                           "[v1.]",       "host:-1",
                           "host: 80",    "\t"}) {
    EXPECT_FALSE(is_valid_host_field(host)) << host;
  }
}

}  // namespace
}  // namespace cork
