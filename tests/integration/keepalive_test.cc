// Integration tests: persistent connections (RFC 9112 9.3), pipelining (9.3.2), request bodies
// on GET being read and discarded, and the header and keep-alive timeouts.
#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <system_error>
#include <thread>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kA = "file a\n";
constexpr const char* kB = "file b, a little longer\n";
constexpr const char* kC = "file c\n";

std::string numbered_name(int i) {
  return "p" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".txt";
}

// Distinct content and length per file, so that any reordering or mixing shows.
std::string numbered_content(int i) {
  return "pipelined file " + std::to_string(i) + " " +
         std::string(static_cast<std::size_t>(i), '+') + "\n";
}

void put_files(CorkProcess& server) {
  server.put("a.txt", kA);
  server.put("b.txt", kB);
  server.put("c.txt", kC);
  for (int i = 0; i < 20; ++i)
    server.put(numbered_name(i), numbered_content(i));
}

class KeepAliveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    put_files(server_);
    ASSERT_TRUE(server_.start());
  }
  int port() const { return server_.port(); }

  CorkProcess server_;
};

TEST_F(KeepAliveTest, SeveralRequestsOnOneHttp11Connection) {
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  for (int i = 0; i < 6; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    ASSERT_TRUE(client.send_all(get_request("/" + numbered_name(i))));
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, numbered_content(i));
    EXPECT_EQ(response.header("Connection").value_or(""), "") << "HTTP/1.1 needs no Connection";
  }
  EXPECT_TRUE(client.still_open());
}

TEST_F(KeepAliveTest, Http10ClosesAfterTheResponseByDefault) {
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  ASSERT_TRUE(client.send_all("GET /a.txt HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"));
  HttpResponse response;
  ASSERT_TRUE(client.read_response(response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, kA);
  EXPECT_EQ(response.header("Connection").value_or("").find("keep-alive"), std::string::npos);
  Drained rest = client.read_until_close(3s);
  EXPECT_TRUE(rest.closed()) << "HTTP/1.0 connection left open";
  EXPECT_EQ(rest.data, "");
}

TEST_F(KeepAliveTest, Http10KeepAliveIsHonoured) {
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  for (const char* target : {"/a.txt", "/b.txt", "/c.txt"}) {
    SCOPED_TRACE(target);
    ASSERT_TRUE(client.send_all(std::string("GET ") + target +
                                " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"));
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("Connection"), "keep-alive");
  }
  EXPECT_TRUE(client.still_open());
}

TEST_F(KeepAliveTest, ConnectionCloseIsHonoured) {
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  ASSERT_TRUE(client.send_all(get_request("/a.txt", "Connection: close\r\n")));
  HttpResponse response;
  ASSERT_TRUE(client.read_response(response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, kA);
  EXPECT_EQ(response.header("Connection"), "close");
  Drained rest = client.read_until_close(3s);
  EXPECT_TRUE(rest.closed()) << "connection left open after Connection: close";
  EXPECT_EQ(rest.data, "");
}

// Requests after "Connection: close" in the same send are not answered (RFC 9112 9.6).
TEST_F(KeepAliveTest, NothingIsAnsweredAfterConnectionClose) {
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  ASSERT_TRUE(
      client.send_all(get_request("/a.txt", "Connection: close\r\n") + get_request("/b.txt")));
  HttpResponse response;
  ASSERT_TRUE(client.read_response(response));
  EXPECT_EQ(response.body, kA);
  Drained rest = client.read_until_close(3s);
  EXPECT_TRUE(rest.closed());
  EXPECT_EQ(rest.data, "") << "answered a request sent after Connection: close";
}

TEST_F(KeepAliveTest, TwentyPipelinedRequestsInOneSendAreAnsweredInOrder) {
  std::string requests;
  for (int i = 0; i < 20; ++i)
    requests += get_request("/" + numbered_name(i));
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  ASSERT_TRUE(client.send_all(requests));
  for (int i = 0; i < 20; ++i) {
    SCOPED_TRACE("response " + std::to_string(i));
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, numbered_content(i));
  }
  EXPECT_TRUE(client.still_open());
}

// The body of each GET looks like a request for c.txt: if it were not discarded, c.txt would
// be answered.
TEST_F(KeepAliveTest, GetWithContentLengthBodyThenPipelinedGet) {
  const std::string decoy = get_request("/c.txt");
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  ASSERT_TRUE(client.send_all(
      get_request("/a.txt", "Content-Length: " + std::to_string(decoy.size()) + "\r\n") + decoy +
      get_request("/b.txt")));
  HttpResponse first;
  ASSERT_TRUE(client.read_response(first));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, kA);
  HttpResponse second;
  ASSERT_TRUE(client.read_response(second));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, kB) << "the GET body was not discarded";
  ASSERT_TRUE(client.send_all(get_request("/a.txt")));
  HttpResponse third;
  ASSERT_TRUE(client.read_response(third));
  EXPECT_EQ(third.body, kA);
}

// The largest body read and discarded by default (max_discard_body = 64K), more than one read
// long. (A longer one is not read: the answer closes the connection, request_body_test.cc.)
TEST_F(KeepAliveTest, GetWithLargeContentLengthBodyThenPipelinedGet) {
  const std::string body(64 * 1024, 'x');
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  ASSERT_TRUE(client.send_all(
      get_request("/a.txt", "Content-Length: " + std::to_string(body.size()) + "\r\n") + body +
      get_request("/b.txt")));
  HttpResponse first;
  ASSERT_TRUE(client.read_response(first));
  EXPECT_EQ(first.body, kA);
  HttpResponse second;
  ASSERT_TRUE(client.read_response(second));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, kB);
}

TEST_F(KeepAliveTest, GetWithChunkedBodyThenPipelinedGet) {
  const std::string decoy = get_request("/c.txt");
  char size[16];
  std::snprintf(size, sizeof size, "%zx", decoy.size());
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  ASSERT_TRUE(client.send_all(get_request("/a.txt", "Transfer-Encoding: chunked\r\n") + size +
                              "\r\n" + decoy + "\r\n5\r\nhello\r\n0\r\n\r\n" +
                              get_request("/b.txt")));
  HttpResponse first;
  ASSERT_TRUE(client.read_response(first));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, kA);
  HttpResponse second;
  ASSERT_TRUE(client.read_response(second));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, kB) << "the chunked GET body was not discarded";
  ASSERT_TRUE(client.send_all(get_request("/a.txt")));
  HttpResponse third;
  ASSERT_TRUE(client.read_response(third));
  EXPECT_EQ(third.body, kA);
}

// The timeouts of these tests, and their bounds: a timeout must not fire before it has passed
// (less a few ticks of cork's coarse clock) and must fire within 2 s of it (a loaded machine).
constexpr const char* kTimeout = "300ms";
constexpr long long kTimeoutMs = 300;
constexpr long long kEarliestMs = kTimeoutMs - 50;
constexpr long long kLatestMs = kTimeoutMs + 2000;

long long ms(Clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

TEST(TimeoutTest, IncompleteHeadIsClosedAfterHeaderTimeout) {
  CorkProcess server;
  put_files(server);
  server.set("http", "header_timeout", kTimeout);
  ASSERT_TRUE(server.start());
  RawClient client;
  ASSERT_TRUE(client.connect(server.port()));
  ASSERT_TRUE(client.send_all("GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n"));  // no blank line
  auto sent = Clock::now();
  Drained rest = client.read_until_close(6s);
  auto elapsed = Clock::now() - sent;
  ASSERT_TRUE(rest.closed()) << "an incomplete head was kept open for 6 s";
  EXPECT_LE(ms(elapsed), kLatestMs);
  EXPECT_GE(ms(elapsed), kEarliestMs) << "closed before header_timeout";
  if (!rest.data.empty()) {
    EXPECT_EQ(rest.data.rfind("HTTP/1.1 408 ", 0), 0u)
        << "only a 408 may precede the close: " << printable(rest.data);
  }
}

// A client that connects and sends nothing is closed too, with nothing sent. The listener
// defers the accept until the first bytes arrive (TCP_DEFER_ACCEPT, 1 s), so such a connection
// reaches cork about a second late and header_timeout runs from there: the upper bound allows
// for that second (and a SYN-ACK retransmission).
TEST(TimeoutTest, SilentConnectionIsClosedAfterHeaderTimeout) {
  CorkProcess server;
  put_files(server);
  server.set("http", "header_timeout", kTimeout);
  ASSERT_TRUE(server.start());
  RawClient client;
  ASSERT_TRUE(client.connect(server.port()));
  auto connected = Clock::now();
  Drained rest = client.read_until_close(8s);
  auto elapsed = Clock::now() - connected;
  ASSERT_TRUE(rest.closed()) << "a silent connection was kept open for 8 s";
  EXPECT_GE(ms(elapsed), kEarliestMs) << "closed before header_timeout";
  EXPECT_LE(ms(elapsed), kLatestMs + 2000);
  EXPECT_EQ(rest.data, "") << "a silent connection was sent " << printable(rest.data);
}

// cork's socket descriptors, by number (/proc/PID/fd).
std::set<int> socket_fds(pid_t pid) {
  std::set<int> fds;
  std::error_code error;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", error), end;
       !error && it != end; it.increment(error)) {
    std::error_code gone;  // closed since it was listed
    const std::filesystem::path target = std::filesystem::read_symlink(it->path(), gone);
    if (!gone && target.native().rfind("socket:", 0) == 0) {
      fds.insert(std::stoi(it->path().filename().string()));
    }
  }
  return fds;
}

// The descriptors that cork's epoll instances watch: the "tfd:" lines of their fdinfo (proc(5)).
std::set<int> epoll_watched_fds(pid_t pid) {
  std::set<int> fds;
  const std::string proc = "/proc/" + std::to_string(pid);
  std::error_code error;
  for (std::filesystem::directory_iterator it(proc + "/fd", error), end; !error && it != end;
       it.increment(error)) {
    std::error_code gone;
    if (std::filesystem::read_symlink(it->path(), gone).native() != "anon_inode:[eventpoll]") {
      continue;
    }
    std::ifstream info(proc + "/fdinfo/" + it->path().filename().string());
    std::string word;
    int fd = -1;
    while (info >> word) {
      if (word == "tfd:" && info >> fd) fds.insert(fd);
    }
  }
  return fds;
}

// A new connection goes to a worker straight from accept and enters the epoll set only when it
// first has to wait. A request sent once cork has accepted the connection with nothing to read
// (after the 1 s deferral) and is waiting for it in epoll is answered, and so is the next one.
TEST(TimeoutTest, RequestSentLongAfterConnectIsAnswered) {
  CorkProcess server;
  put_files(server);
  ASSERT_TRUE(server.start());
  const std::set<int> before = socket_fds(server.pid());
  RawClient client;
  ASSERT_TRUE(client.connect(server.port()));
  bool waiting = false;
  for (auto deadline = Clock::now() + 5s; !waiting && Clock::now() < deadline;) {
    const std::set<int> watched = epoll_watched_fds(server.pid());
    for (int fd : socket_fds(server.pid()))
      waiting = waiting || (before.count(fd) == 0 && watched.count(fd) != 0);
    if (!waiting) std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(waiting) << "cork did not accept the connection and wait for it within 5 s";
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client.send_all(get_request("/a.txt")));
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response, Method::kGet, 3s)) << "request " << i;
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, kA);
  }
}

// The whole head must arrive within header_timeout: a byte every 30 ms (ten per timeout) does
// not extend it.
TEST(TimeoutTest, TricklingHeadIsClosedAfterHeaderTimeout) {
  CorkProcess server;
  put_files(server);
  server.set("http", "header_timeout", kTimeout);
  ASSERT_TRUE(server.start());
  RawClient client;
  ASSERT_TRUE(client.connect(server.port()));
  const std::string head = "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " +
                           std::string(200, 's');  // never finished
  auto started = Clock::now();
  bool closed = false;
  for (std::size_t i = 0; i < head.size() && Clock::now() - started < 6s; ++i) {
    if (!client.still_open() || !client.send_all(head.substr(i, 1))) {
      closed = true;
      break;
    }
    std::this_thread::sleep_for(30ms);  // the pace of the trickle, not a wait for a condition
  }
  auto elapsed = Clock::now() - started;
  ASSERT_TRUE(closed) << "a head trickling in for 6 s was never closed";
  EXPECT_LE(ms(elapsed), kLatestMs + 200);
}

TEST(TimeoutTest, IdleKeepAliveConnectionIsClosedAfterKeepaliveTimeout) {
  CorkProcess server;
  put_files(server);
  server.set("http", "keepalive_timeout", kTimeout);
  ASSERT_TRUE(server.start());
  RawClient client;
  ASSERT_TRUE(client.connect(server.port()));
  ASSERT_TRUE(client.send_all(get_request("/a.txt")));
  HttpResponse response;
  ASSERT_TRUE(client.read_response(response));
  ASSERT_EQ(response.status, 200);
  auto answered = Clock::now();
  Drained rest = client.read_until_close(6s);
  auto elapsed = Clock::now() - answered;
  ASSERT_TRUE(rest.closed()) << "an idle keep-alive connection was kept open for 6 s";
  EXPECT_LE(ms(elapsed), kLatestMs);
  EXPECT_GE(ms(elapsed), kEarliestMs) << "closed before keepalive_timeout";
  EXPECT_EQ(rest.data, "");
}

// Requests every 100 ms for 1.8 s, more than three times the 500 ms idle timer, which each of
// them resets. (The pause leaves 400 ms for a loaded machine to run the client late.)
TEST(TimeoutTest, ActiveConnectionOutlivesKeepaliveTimeout) {
  CorkProcess server;
  put_files(server);
  server.set("http", "keepalive_timeout", "500ms");
  ASSERT_TRUE(server.start());
  RawClient client;
  ASSERT_TRUE(client.connect(server.port()));
  for (int i = 0; i < 18; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    ASSERT_TRUE(client.send_all(get_request("/b.txt")));
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, kB);
    std::this_thread::sleep_for(100ms);  // the pace of the client, not a wait for a condition
  }
}

}  // namespace
}  // namespace cork::integration
