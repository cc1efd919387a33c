// Connection: the socket state machine over a socketpair with a fake clock: the deadlines it
// asks the reactor for (header timeout counted from the first byte, keep-alive after a
// response, send timeout while blocked), pipelining, Connection: close and its FIN, a peer that
// goes away, and drain; request bodies: a refused one answered at once, the total body deadline
// and its 408, the per-wake budget of the body loop, and a 100 Continue that has to wait for
// room. No listener, no reactor, no waiting.
#include "server/connection.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <string>

#include "server/access_log.h"
#include "server/server_test_support.h"

namespace cork {
namespace {

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_.write_file("small.txt", "hello");
    root_.write_file("big.bin", std::string(8 * 1024 * 1024, 'b'));
    Config config;
    config.access_log = "off";
    start(config);
  }

  // A new connection served with `config`'s settings.
  void start(const Config& config) {
    connection_.reset();
    settings_ = testing::settings_for(root_, config);
    context_ = std::make_unique<ServerContext>(log_, access_log_, clock_, settings_);
    testing::SocketPair pair;
    client_ = std::move(pair.client);
    const int fd = pair.server.get();
    connection_ = std::make_unique<Connection>(std::move(pair.server), ConnHandle::make(fd, 1),
                                               testing::loopback_peer(), *context_, handler_,
                                               clock_.monotonic_ms());
  }

  void send(std::string_view bytes) {
    ASSERT_EQ(::send(client_.get(), bytes.data(), bytes.size(), 0),
              static_cast<ssize_t>(bytes.size()));
  }
  std::string receive() { return testing::receive_available(client_.get()); }
  Connection::Next serve() { return connection_->serve(clock_.monotonic_ms()); }
  std::int64_t deadline() const { return connection_->deadline_ms.load(); }
  static int count(const std::string& text, std::string_view what) {
    int n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
      ++n;
    return n;
  }

  testing::TempRoot root_;
  testing::FakeClock clock_;
  testing::FixedGauges gauges_;
  Logger log_;
  AccessLog access_log_{log_, 16};
  std::shared_ptr<const Settings> settings_;
  std::unique_ptr<ServerContext> context_;
  Metrics handler_metrics_;
  RequestHandler handler_{log_, handler_metrics_, gauges_};
  UniqueFd client_;
  std::unique_ptr<Connection> connection_;
};

TEST_F(ConnectionTest, FirstRequestMustComeWithinTheHeaderTimeoutOfTheAccept) {
  EXPECT_EQ(deadline(), clock_.monotonic_ms() + settings_->header_timeout_ms);
  clock_.advance_ms(300);
  EXPECT_EQ(serve(), Connection::Next::kRead) << "nothing sent yet: wait";
  EXPECT_EQ(deadline(), clock_.monotonic_ms() - 300 + settings_->header_timeout_ms)
      << "waiting does not extend the first request's deadline";
}

TEST_F(ConnectionTest, ResponseThenKeepAliveDeadline) {
  send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(serve(), Connection::Next::kRead);
  const std::string response = receive();
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("\r\n\r\nhello"), std::string::npos);
  EXPECT_EQ(deadline(), clock_.monotonic_ms() + settings_->keepalive_timeout_ms);
  EXPECT_TRUE(connection_->between_requests());
}

TEST_F(ConnectionTest, HeaderTimeoutCountsFromTheFirstByte) {
  // A keep-alive connection whose next request trickles in (slowloris).
  send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(serve(), Connection::Next::kRead);
  receive();
  clock_.advance_ms(5000);
  const std::int64_t first_byte = clock_.monotonic_ms();
  send("GET /sm");
  EXPECT_EQ(serve(), Connection::Next::kRead);
  EXPECT_EQ(deadline(), first_byte + settings_->header_timeout_ms);
  EXPECT_FALSE(connection_->between_requests());
  clock_.advance_ms(700);
  send("all.txt HTTP/1.1\r\n");
  EXPECT_EQ(serve(), Connection::Next::kRead);
  EXPECT_EQ(deadline(), first_byte + settings_->header_timeout_ms)
      << "more bytes of the same head do not extend its deadline";
  send("Host: x\r\n\r\n");
  EXPECT_EQ(serve(), Connection::Next::kRead);
  EXPECT_EQ(count(receive(), "HTTP/1.1 200 OK"), 1);
  EXPECT_EQ(deadline(), clock_.monotonic_ms() + settings_->keepalive_timeout_ms);
}

TEST_F(ConnectionTest, PipelinedRequestsAreAnsweredInOrder) {
  send(
      "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /small.txt HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(serve(), Connection::Next::kRead);
  const std::string r = receive();
  EXPECT_EQ(count(r, "HTTP/1.1 200 OK"), 2) << r;
  EXPECT_EQ(count(r, "HTTP/1.1 404 Not Found"), 1) << r;
  EXPECT_LT(r.find("200 OK"), r.find("404"));
}

TEST_F(ConnectionTest, ConnectionCloseEndsWithFin) {
  send("GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(serve(), Connection::Next::kClose);
  connection_->prepare_close();
  const std::string r = receive();
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  char byte;
  EXPECT_EQ(::recv(client_.get(), &byte, 1, MSG_DONTWAIT), 0) << "FIN after the response";
}

TEST_F(ConnectionTest, PeerThatLeavesIsClosed) {
  client_.reset();
  EXPECT_EQ(serve(), Connection::Next::kClose);
}

TEST_F(ConnectionTest, BlockedSendAsksForOutputWithTheSendTimeout) {
  send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(serve(), Connection::Next::kWrite) << "8 MiB do not fit a socketpair";
  EXPECT_EQ(deadline(), clock_.monotonic_ms() + settings_->send_timeout_ms);
  std::size_t received = 0;
  for (int i = 0; i < 100'000 && received < 8u * 1024 * 1024; ++i) {
    received += receive().size();
    clock_.advance_ms(1);
    if (serve() == Connection::Next::kRead) break;
  }
  received += receive().size();
  EXPECT_GT(received, 8u * 1024 * 1024);
  EXPECT_EQ(deadline(), clock_.monotonic_ms() + settings_->keepalive_timeout_ms);
}

TEST_F(ConnectionTest, DrainClosesAnIdleConnection) {
  send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(serve(), Connection::Next::kRead);
  receive();
  context_->draining = true;
  EXPECT_EQ(serve(), Connection::Next::kClose);
}

TEST_F(ConnectionTest, DrainingAnswersWithConnectionClose) {
  context_->draining = true;
  send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(serve(), Connection::Next::kClose);
  EXPECT_NE(receive().find("Connection: close"), std::string::npos);
}

TEST_F(ConnectionTest, MalformedRequestIsAnsweredAndClosed) {
  send("GET / HTTP/1.1\r\nHost x\r\n\r\n");
  EXPECT_EQ(serve(), Connection::Next::kClose);
  EXPECT_EQ(receive().rfind("HTTP/1.1 400", 0), 0u);
}

// A refused method's body is never read: the 405 goes out at once, before any of it came.
TEST_F(ConnectionTest, RefusedMethodWithABodyIsAnsweredAtOnceAndClosed) {
  send("POST /small.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n");
  EXPECT_EQ(serve(), Connection::Next::kClose);
  const std::string r = receive();
  EXPECT_EQ(r.rfind("HTTP/1.1 405 ", 0), 0u) << r;
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos) << r;
}

// The body is due within header_timeout of the request's first byte (here the accept): bytes
// of it do not move the deadline.
TEST_F(ConnectionTest, BodyDeadlineCountsFromTheRequestsFirstByte) {
  const std::int64_t first_byte = clock_.monotonic_ms();
  send("GET /small.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
  EXPECT_EQ(serve(), Connection::Next::kRead);
  EXPECT_EQ(deadline(), first_byte + settings_->header_timeout_ms);
  clock_.advance_ms(700);
  send("cd");
  EXPECT_EQ(serve(), Connection::Next::kRead);
  EXPECT_EQ(deadline(), first_byte + settings_->header_timeout_ms)
      << "more bytes of the body do not extend its deadline";
  EXPECT_EQ(receive(), "");
}

// A worker that finds the body late (more bytes came after the deadline) answers 408 and closes.
TEST_F(ConnectionTest, BodyPastItsDeadlineIsAnswered408AndClosed) {
  send("GET /small.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
  ASSERT_EQ(serve(), Connection::Next::kRead);
  clock_.advance_ms(settings_->header_timeout_ms);
  send("cd");
  EXPECT_EQ(serve(), Connection::Next::kClose);
  connection_->prepare_close();
  const std::string r = receive();
  EXPECT_EQ(r.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos) << r;
  char byte;
  EXPECT_EQ(::recv(client_.get(), &byte, 1, MSG_DONTWAIT), 0) << "FIN after the 408";
}

// The reactor closes a connection whose body did not come in time: the 408 goes out first.
TEST_F(ConnectionTest, BodyThatTimesOutWhileWaitingIsAnswered408) {
  send("GET /small.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
  ASSERT_EQ(serve(), Connection::Next::kRead);
  clock_.advance_ms(settings_->header_timeout_ms);
  connection_->prepare_close();  // what the reactor's timer does
  const std::string r = receive();
  EXPECT_EQ(r.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << r;
}

// A chunked body is read while it stays within max_discard_body, chunk framing counted; one
// byte past it, the request is answered at once and the connection closed.
TEST_F(ConnectionTest, ChunkedBodyPastTheLimitIsCutAnsweredAndClosed) {
  Config config;
  config.access_log = "off";
  config.max_discard_body = 30;
  start(config);
  const std::string head =
      "GET /small.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  send(head + "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n");  // 26 bytes
  EXPECT_EQ(serve(), Connection::Next::kRead);
  std::string r = receive();
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_EQ(r.find("Connection: close"), std::string::npos) << "within the limit: kept";
  send(head + "5\r\nhello\r\n6\r\nworld!\r\n");  // 21 bytes, the end still to come
  EXPECT_EQ(serve(), Connection::Next::kRead);
  EXPECT_EQ(receive(), "");
  send("1\r\nx\r\n");  // 27 bytes
  EXPECT_EQ(serve(), Connection::Next::kRead);
  send("1\r\ny\r\n");  // 33: past the limit
  EXPECT_EQ(serve(), Connection::Next::kClose);
  r = receive();
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\r\n\r\nhello"), std::string::npos) << r;
}

// max_discard_body = 0: no body is read, not even a chunked one.
TEST_F(ConnectionTest, NoBodyIsReadWithALimitOfZero) {
  Config config;
  config.access_log = "off";
  config.max_discard_body = 0;
  start(config);
  send("GET /small.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(serve(), Connection::Next::kClose);
  const std::string r = receive();
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos) << r;
}

// A body streaming in faster than it is read does not keep the worker: after the per-wake budget
// the connection yields, with the rest still in the socket.
TEST_F(ConnectionTest, BodyLoopYieldsAfterItsBudget) {
  Config config;
  config.access_log = "off";
  config.max_discard_body = 1 << 30;  // read, not refused
  start(config);
  const int big = 8 << 20;
  ::setsockopt(client_.get(), SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  send("GET /small.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n");
  const std::string chunk(64 * 1024, 'b');
  std::size_t queued = 0;
  while (::send(client_.get(), chunk.data(), chunk.size(), MSG_DONTWAIT) > 0)
    queued += chunk.size();
  if (queued < 1024 * 1024) GTEST_SKIP() << "a socketpair holds only " << queued << " bytes here";
  EXPECT_EQ(serve(), Connection::Next::kRead);
  int unread = 0;
  ASSERT_EQ(::ioctl(connection_->fd(), FIONREAD, &unread), 0);
  EXPECT_GT(unread, 0) << "the whole " << queued << " bytes were read in one wake";
  EXPECT_GE(unread, static_cast<int>(queued) - 512 * 1024) << "more than 512 KiB in one wake";
  EXPECT_EQ(receive(), "") << "the body is not complete: no answer yet";
}

// 100 Continue goes through the sender: when the socket has no room for it, the connection waits
// for output and sends it whole before reading the body; then the answer follows.
TEST_F(ConnectionTest, ContinueThatDoesNotFitIsSentWhenThereIsRoom) {
  const std::string filler(4096, 'f');
  std::size_t filled = 0;
  for (;;) {
    const ssize_t n = ::send(connection_->fd(), filler.data(), filler.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    filled += static_cast<std::size_t>(n);
  }
  send(
      "GET /small.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Expect: 100-continue\r\n\r\n");
  EXPECT_EQ(serve(), Connection::Next::kWrite) << "no room for 100 Continue: wait for output";
  std::string received = receive();
  EXPECT_EQ(serve(), Connection::Next::kRead) << "100 Continue sent: wait for the body";
  received += receive();
  ASSERT_GE(received.size(), filled);
  EXPECT_EQ(received.substr(filled), "HTTP/1.1 100 Continue\r\n\r\n");
  send("hello");
  EXPECT_EQ(serve(), Connection::Next::kRead);
  received += receive();
  EXPECT_EQ(received.substr(filled).rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0),
            0u)
      << received.substr(filled);
}

}  // namespace
}  // namespace cork
