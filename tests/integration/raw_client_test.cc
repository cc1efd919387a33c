// The test client's response parsing (raw_client_support.h), against a canned peer on loopback
// instead of cork: every framing the integration tests rely on (HEAD, 204, 304, Content-Length,
// chunked, the close, pipelined responses), each also delivered split at every byte, and the
// malformed heads that must be reported rather than read.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "integration/raw_client_support.h"
#include "integration/temp_dir_support.h"
#include "server/unique_fd.h"

namespace cork::integration {
namespace {

using namespace std::chrono_literals;

// Neither copyable nor movable: owns a listening socket and the thread that answers one
// connection. The peer accepts once, sends `pieces` one send() each (with TCP_NODELAY and a
// short pause between them, so that they tend to arrive as separate reads), then closes.
class CannedPeer {
 public:
  explicit CannedPeer(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {
    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (!listener_ || ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_.get(), 1) != 0 ||
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on loopback: " << std::strerror(errno);
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~CannedPeer() {
    if (thread_.joinable()) thread_.join();
  }
  CannedPeer(const CannedPeer&) = delete;
  CannedPeer& operator=(const CannedPeer&) = delete;

  int port() const { return port_; }

 private:
  void serve() {
    // Bounded: a client that never connects does not hang the test.
    pollfd entry{listener_.get(), POLLIN, 0};
    if (::poll(&entry, 1, 5000) != 1) return;
    UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection) return;
    int one = 1;
    ::setsockopt(connection.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
      if (i > 0) std::this_thread::sleep_for(1ms);  // the pace of the peer
      const std::string& piece = pieces_[i];
      for (std::size_t sent = 0; sent < piece.size();) {
        const ssize_t n =
            ::send(connection.get(), piece.data() + sent, piece.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        sent += static_cast<std::size_t>(n);
      }
    }
  }

  std::vector<std::string> pieces_;
  UniqueFd listener_;
  int port_ = 0;
  std::thread thread_;  // last: starts after everything above is initialized
};

// `bytes` whole, and split in two at every position.
std::vector<std::vector<std::string>> deliveries(const std::string& bytes) {
  std::vector<std::vector<std::string>> all = {{bytes}};
  for (std::size_t at = 1; at < bytes.size(); ++at)
    all.push_back({bytes.substr(0, at), bytes.substr(at)});
  return all;
}

std::string describe(const std::vector<std::string>& pieces) {
  std::string text;
  for (const std::string& piece : pieces)
    text += "[" + printable(piece) + "]";
  return text;
}

// Reads the responses to `methods` from a peer that sends `bytes` in the ways above.
void expect_responses(const std::string& bytes, const std::vector<Method>& methods,
                      const std::vector<HttpResponse>& expected) {
  for (const std::vector<std::string>& pieces : deliveries(bytes)) {
    SCOPED_TRACE(describe(pieces));
    CannedPeer peer(pieces);
    RawClient client;
    ASSERT_TRUE(client.connect(peer.port()));
    for (std::size_t i = 0; i < methods.size(); ++i) {
      SCOPED_TRACE("response " + std::to_string(i));
      HttpResponse response;
      ASSERT_TRUE(client.read_response(response, methods[i], 2s));
      EXPECT_EQ(response.version, expected[i].version);
      EXPECT_EQ(response.status, expected[i].status);
      EXPECT_EQ(response.reason, expected[i].reason);
      EXPECT_EQ(response.headers, expected[i].headers);
      EXPECT_EQ(response.body, expected[i].body);
      EXPECT_EQ(response.framed_by_close, expected[i].framed_by_close);
    }
    EXPECT_EQ(client.buffered(), 0u);
  }
}

HttpResponse response(int status, std::string reason,
                      std::vector<std::pair<std::string, std::string>> headers, std::string body,
                      bool framed_by_close = false) {
  HttpResponse r;
  r.version = "HTTP/1.1";
  r.status = status;
  r.reason = std::move(reason);
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.framed_by_close = framed_by_close;
  return r;
}

TEST(RawClientTest, PipelinedResponsesOfEveryFraming) {
  const std::string bytes =
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Padded:  a b \t\r\n\r\nhello"
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"  // to HEAD: no body
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
      "HTTP/1.1 204 No Content\r\n\r\n"
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
      "HTTP/1.1 404 \r\ncontent-length: 0\r\n\r\n"
      "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end\r\n";
  expect_responses(bytes,
                   {Method::kGet, Method::kHead, Method::kGet, Method::kGet, Method::kGet,
                    Method::kGet, Method::kGet, Method::kGet},
                   {response(200, "OK", {{"Content-Length", "5"}, {"X-Padded", "a b"}}, "hello"),
                    response(200, "OK", {{"Content-Length", "5"}}, ""),
                    response(304, "Not Modified", {{"Content-Length", "5"}}, ""),
                    response(204, "No Content", {}, ""), response(100, "Continue", {}, ""),
                    response(200, "OK", {{"Transfer-Encoding", "chunked"}}, "abcde"),
                    response(404, "", {{"content-length", "0"}}, ""),
                    response(200, "OK", {{"Connection", "close"}}, "to the end\r\n", true)});
}

TEST(RawClientTest, HeadersAreFoundIgnoringCase) {
  HttpResponse r = response(200, "OK", {{"Content-Type", "text/plain"}, {"VARY", "a"}}, "");
  r.headers.emplace_back("vary", "b");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("Vary"), "a");
  EXPECT_EQ(r.header_count("vAry"), 2u);
  EXPECT_EQ(r.header("Content-Length"), std::nullopt);
}

// The head, then the body through read_exactly(): read_head() leaves the body in the stream.
TEST(RawClientTest, ReadHeadLeavesTheBody) {
  const std::string bytes = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
  for (const std::vector<std::string>& pieces : deliveries(bytes)) {
    SCOPED_TRACE(describe(pieces));
    CannedPeer peer(pieces);
    RawClient client;
    ASSERT_TRUE(client.connect(peer.port()));
    HttpResponse head;
    ASSERT_TRUE(client.read_head(head, 2s));
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("Content-Length"), "10");
    std::string body;
    ASSERT_TRUE(client.read_exactly(10, body, 2s));
    EXPECT_EQ(body, "0123456789");
  }
}

// What a test must hear about instead of reading on.
TEST(RawClientTest, MalformedOrCutResponsesFail) {
  struct Case {
    const char* name;
    std::string bytes;
    const char* message;  // part of the failure message
  };
  const Case cases[] = {
      {"bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", "bare LF"},
      {"bare LF in a field", "HTTP/1.1 200 OK\r\nA: b\nContent-Length: 0\r\n\r\n", "bare LF"},
      {"no status code", "HTTP/1.1 OK\r\n\r\n", "malformed response"},
      {"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", "malformed response"},
      {"HTTP/1.2", "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n", "malformed response"},
      {"space before the colon", "HTTP/1.1 200 OK\r\nA : b\r\n\r\n", "field name and the colon"},
      {"obs-fold", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\nContent-Length: 0\r\n\r\n", "obs-fold"},
      {"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
       "malformed response"},
      {"bad length", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\na", "malformed response"},
      {"cut head", "HTTP/1.1 200 OK\r\nContent-Le", "before a complete response head"},
      {"cut body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234", "reading the body"},
      {"cut chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
       "reading the body"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    CannedPeer peer({c.bytes});
    RawClient client;
    ASSERT_TRUE(client.connect(peer.port()));
    HttpResponse response;
    const ::testing::AssertionResult read = client.read_response(response, Method::kGet, 2s);
    ASSERT_FALSE(read);
    EXPECT_NE(std::string_view(read.message()).find(c.message), std::string_view::npos)
        << read.message();
  }
}

// After a failed read: the head so far is still counted as buffered (so that a caller can tell
// "nothing arrived" from "a response was cut"); once the head is complete, the status is set.
TEST(RawClientTest, AFailedReadTellsWhatArrived) {
  {
    CannedPeer peer({"HTTP/1.1 200 OK\r\nContent-Le"});
    RawClient client;
    ASSERT_TRUE(client.connect(peer.port()));
    HttpResponse response;
    ASSERT_FALSE(client.read_response(response, Method::kGet, 2s));
    EXPECT_EQ(response.status, 0);
    EXPECT_EQ(client.buffered(), 27u);
  }
  {
    CannedPeer peer({"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234"});
    RawClient client;
    ASSERT_TRUE(client.connect(peer.port()));
    HttpResponse response;
    ASSERT_FALSE(client.read_response(response, Method::kGet, 2s));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "01234");
  }
  {
    CannedPeer peer({});
    RawClient client;
    ASSERT_TRUE(client.connect(peer.port()));
    HttpResponse response;
    ASSERT_FALSE(client.read_response(response, Method::kGet, 2s));
    EXPECT_EQ(response.status, 0);
    EXPECT_EQ(client.buffered(), 0u);
  }
}

}  // namespace
}  // namespace cork::integration
