// Integration tests: protocol details of RFC 9110 / 9112 on the wire, through the real binary:
// HTTP/1.x versions above 1.1, Host syntax, and Upgrade offers that cork ignores.
#include <string>

#include <gtest/gtest.h>

#include "integration/command_support.h"
#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

constexpr const char* kA = "file a\n";
constexpr const char* kB = "file b\n";

class ProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.put("a.txt", kA);
    server_.put("b.txt", kB);
    ASSERT_TRUE(server_.start());
  }
  int port() const { return server_.port(); }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }

  CorkProcess server_;
};

// RFC 9110 2.5: HTTP/1.2 is processed as HTTP/1.1 and answered as HTTP/1.1 (not 505), and the
// connection stays open as for HTTP/1.1.
TEST_F(ProtocolTest, Http12RequestIsAnsweredAsHttp11OnAKeptAliveConnection) {
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  ASSERT_TRUE(client.send_all("GET /a.txt HTTP/1.2\r\nHost: 127.0.0.1\r\n\r\n"));
  HttpResponse first;
  ASSERT_TRUE(client.read_response(first));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.version, "HTTP/1.1");
  EXPECT_EQ(first.body, kA);
  EXPECT_FALSE(first.header("Connection").has_value());
  ASSERT_TRUE(client.send_all("GET /b.txt HTTP/1.9\r\nHost: 127.0.0.1\r\n\r\n"));
  HttpResponse second;
  ASSERT_TRUE(client.read_response(second));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, kB);
}

TEST_F(ProtocolTest, Http12WithoutHostIs400LikeHttp11) {
  HttpResponse response;
  ASSERT_TRUE(fetch(port(), "GET /a.txt HTTP/1.2\r\n\r\n", response));
  EXPECT_EQ(response.status, 400);
}

// RFC 9110 7.2, RFC 3986 3.2.2: every form of uri-host [ ":" port ] is served.
TEST_F(ProtocolTest, ValidHostFormsAreServed) {
  for (const char* host : {"127.0.0.1", "localhost:8080", "[::1]", "[::1]:80",
                           "example.com:", "ex%41mple.com", "a-b_c~d.example"}) {
    SCOPED_TRACE(host);
    HttpResponse response;
    ASSERT_TRUE(
        fetch(port(), std::string("GET /a.txt HTTP/1.1\r\nHost: ") + host + "\r\n\r\n", response));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, kA);
  }
}

}  // namespace
}  // namespace cork::integration
