// Integration tests: request bodies, which cork never uses (RFC 9112 9.6, RFC 9110 10.1.1). A
// small one (Content-Length within max_discard_body) is read and discarded within
// header_timeout of the request's first byte and the connection kept; a refused request's, an
// oversized one and a chunked one past the limit are not read: the answer goes out at once and
// the connection closes. 100 Continue only for a body cork will read. Every outcome is counted
// on the status page.
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kA = "file a\n";
constexpr const char* kB = "file b\n";
// An answer that needs no body comes at once; this only bounds a loaded machine.
constexpr auto kAtOnce = 2s;

long long ms(Clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

// True when the peer has sent something or closed (nothing is consumed).
bool answered_or_closed(int fd) {
  char byte;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

// Writes `piece` over and over on `fd` from its own thread until stop() or `limit` bytes, or
// until the peer stops taking them. Only ::send() touches the socket here; the test's RawClient
// reads on the main thread.
class BodyStream {
 public:
  BodyStream(int fd, std::string piece, std::size_t limit)
      : thread_([this, fd, piece = std::move(piece), limit] {
          std::size_t at = 0;
          while (!stop_.load() && sent_.load() < limit) {
            const ssize_t n =
                ::send(fd, piece.data() + at, piece.size() - at, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
              sent_ += static_cast<std::size_t>(n);
              at = (at + static_cast<std::size_t>(n)) % piece.size();
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
              pollfd entry{fd, POLLOUT, 0};
              (void)::poll(&entry, 1, 50);
            } else if (n < 0 && errno != EINTR) {
              break;  // the server closed (reset): the stream is over
            }
          }
          finished_ = true;
        }) {}
  ~BodyStream() { stop(); }
  BodyStream(const BodyStream&) = delete;
  BodyStream& operator=(const BodyStream&) = delete;

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t sent() const { return sent_.load(); }
  bool finished() const { return finished_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::atomic<std::size_t> sent_{0};
  std::thread thread_;
};

class RequestBodyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.put("a.txt", kA);
    server_.put("b.txt", kB);
    server_.set("server", "status_path", "/.cork/status");
  }
  int port() const { return server_.port(); }

  // cork_request_bodies_total{outcome="..."} on the status page; -1 when it is not there.
  long long outcome(const std::string& name) {
    HttpResponse page;
    EXPECT_TRUE(fetch(port(), get_request("/.cork/status"), page));
    const std::string line = "\ncork_request_bodies_total{outcome=\"" + name + "\"} ";
    const std::size_t at = page.body.find(line);
    return at == std::string::npos ? -1 : std::stoll(page.body.substr(at + line.size()));
  }

  // The answer to `request`, read within kAtOnce, announces the close, and the connection
  // then ends with nothing after the response.
  void expect_answered_at_once_and_closed(const std::string& request, int status,
                                          HttpResponse* out = nullptr) {
    RawClient client;
    ASSERT_TRUE(client.connect(port()));
    ASSERT_TRUE(client.send_all(request));
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response, Method::kGet, kAtOnce))
        << "no answer within 2 s: cork waited for the body";
    EXPECT_EQ(response.status, status);
    EXPECT_EQ(response.header("Connection"), "close");
    Drained rest = client.read_until_close(3s);
    EXPECT_TRUE(rest.closed()) << "connection still open 3 s after an answer that said close";
    EXPECT_EQ(rest.data, "");
    if (out != nullptr) *out = response;
  }

  CorkProcess server_;
};

// A refused method's body is never read, however large it says it is: its 405 comes at once.
TEST_F(RequestBodyTest, RefusedMethodWithAHugeLengthIsAnsweredAtOnce) {
  ASSERT_TRUE(server_.start());
  HttpResponse response;
  expect_answered_at_once_and_closed(
      "POST /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000000\r\n\r\n" +
          std::string(1000, 'x'),
      405, &response);
  EXPECT_EQ(response.header("Allow"), "GET, HEAD");
  EXPECT_EQ(outcome("unread"), 1);
}

// Nor a small one that has not come yet (the POST that trickled a byte every 2 s).
TEST_F(RequestBodyTest, RefusedMethodIsAnsweredWithoutWaitingForItsBody) {
  ASSERT_TRUE(server_.start());
  expect_answered_at_once_and_closed(
      "PUT /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n", 405);
}

// RFC 9110 10.1.1: no 100 Continue for a body cork will not read; the final answer instead.
TEST_F(RequestBodyTest, HugeLengthExpectingContinueGetsNo100ButItsAnswer) {
  ASSERT_TRUE(server_.start());
  HttpResponse response;
  expect_answered_at_once_and_closed(
      "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000000\r\n"
      "Expect: 100-continue\r\n\r\n",
      200, &response);
  EXPECT_EQ(response.body, kA);
}

// Over max_discard_body (64 KiB by default): the GET is answered without its body and closed.
TEST_F(RequestBodyTest, LengthOverTheLimitIsAnsweredWithoutReadingTheBody) {
  ASSERT_TRUE(server_.start());
  HttpResponse response;
  expect_answered_at_once_and_closed(
      get_request("/a.txt", "Content-Length: " + std::to_string(64 * 1024 + 1) + "\r\n"), 200,
      &response);
  EXPECT_EQ(response.body, kA);
  EXPECT_EQ(outcome("unread"), 1);
}

// Within the limit: read and discarded (the request in it is not answered), connection kept.
TEST_F(RequestBodyTest, LengthWithinTheLimitIsDiscardedAndTheConnectionKept) {
  ASSERT_TRUE(server_.start());
  std::string body = get_request("/b.txt");
  body += std::string(64 * 1024 - body.size(), 'x');
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  ASSERT_TRUE(client.send_all(
      get_request("/a.txt", "Content-Length: " + std::to_string(body.size()) + "\r\n") + body +
      get_request("/a.txt")));
  for (int i = 0; i < 2; ++i) {
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response)) << "response " << i;
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, kA) << "response " << i;
    EXPECT_FALSE(response.header("Connection").has_value());
  }
  EXPECT_EQ(outcome("discarded"), 1);
}

// A chunked body has no length to look at: it is read until it passes max_discard_body, then
// the request is answered and the connection closed, while the client still sends.
TEST_F(RequestBodyTest, EndlessChunkedBodyIsCutAfterTheLimitThenAnsweredAndClosed) {
  ASSERT_TRUE(server_.start());
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  ASSERT_TRUE(client.send_all(get_request("/a.txt", "Transfer-Encoding: chunked\r\n")));
  BodyStream stream(client.fd(), "1000\r\n" + std::string(0x1000, 'c') + "\r\n", 64 << 20);
  HttpResponse response;
  ASSERT_TRUE(client.read_response(response, Method::kGet, 5s))
      << "no answer while a chunked body streamed for 5 s (" << stream.sent() << " bytes sent)";
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, kA);
  EXPECT_EQ(response.header("Connection"), "close");
  Drained rest = client.read_until_close(5s);
  EXPECT_TRUE(rest.closed());
  EXPECT_EQ(rest.data, "");
  stream.stop();
  EXPECT_EQ(outcome("cut"), 1);
}

// The body deadline is total: a body trickling in a byte every 100 ms gets a 408 and the close
// within header_timeout of the request's first byte, however steadily it comes.
TEST_F(RequestBodyTest, TricklingBodyGets408AndTheCloseWithinHeaderTimeout) {
  server_.set("http", "header_timeout", "500ms");
  ASSERT_TRUE(server_.start());
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  const auto started = Clock::now();
  ASSERT_TRUE(client.send_all(get_request("/a.txt", "Content-Length: 100\r\n")));
  for (int i = 0; i < 100 && !answered_or_closed(client.fd()); ++i) {
    if (!client.send_all("x")) break;
    std::this_thread::sleep_for(100ms);  // the pace of the trickle, not a wait for a condition
  }
  Drained rest = client.read_until_close(1s);
  const auto elapsed = Clock::now() - started;
  ASSERT_TRUE(rest.closed()) << "a trickling body was still open after " << ms(elapsed) << " ms";
  EXPECT_LE(ms(elapsed), 500 + 2500);
  EXPECT_GE(ms(elapsed), 450) << "closed before header_timeout";
  EXPECT_EQ(rest.data.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << printable(rest.data);
  EXPECT_NE(rest.data.find("Connection: close\r\n"), std::string::npos) << printable(rest.data);
  EXPECT_EQ(outcome("timeout"), 1);
}

}  // namespace
}  // namespace cork::integration
