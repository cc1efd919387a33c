// Connection: the socket state machine over a socketpair with a fake clock: the deadlines it
// asks the reactor for (header timeout counted from the first byte, keep-alive after a
// response, send timeout while blocked), pipelining, Connection: close and its FIN, a peer that
// goes away, and drain. No listener, no reactor, no waiting.
#include "server/connection.h"

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

}  // namespace
}  // namespace cork
