// Integration tests: one client pipelining without end, or streaming a request body as fast as
// cork reads it, cannot keep the only worker to itself; another client's requests are answered
// promptly meanwhile.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"
#include "server/unique_fd.h"

namespace cork::integration {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A plain blocking socket connected to cork on loopback, for a test that writes from one thread
// and reads from another; sends (and with `receive_timeout` receives) time out after 200 ms.
// Invalid when the connect fails.
UniqueFd connect_plain(int port, bool receive_timeout) {
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket) return socket;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return UniqueFd();
  }
  timeval timeout{0, 200'000};
  if (receive_timeout)
    ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  return socket;
}

TEST(FairnessTest, APipeliningClientDoesNotStarveOthers) {
  CorkProcess server;
  server.put("a.txt", "a\n");
  server.set("server", "threads", "1");
  ASSERT_TRUE(server.start());

  // The greedy client: 600,000 pipelined requests (about 21 MB), written as fast as cork reads
  // them, its responses read and thrown away by a second thread. A plain socket: one thread
  // writes, the other reads.
  const UniqueFd socket = connect_plain(server.port(), /*receive_timeout=*/true);
  ASSERT_TRUE(socket);
  const int fd = socket.get();
  const std::string request = get_request("/a.txt");
  std::string batch;
  for (int i = 0; i < 1000; ++i)
    batch += request;
  std::atomic<bool> done{false};
  std::atomic<std::size_t> received{0};
  std::thread reader([&] {
    char buffer[1 << 16];
    while (!done.load()) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
      if (n > 0) received += static_cast<std::size_t>(n);
    }
  });
  std::thread writer([&] {
    for (int i = 0; i < 600 && !done.load(); ++i) {
      std::size_t sent = 0;
      while (sent < batch.size() && !done.load()) {
        const ssize_t n = ::send(fd, batch.data() + sent, batch.size() - sent, MSG_NOSIGNAL);
        if (n > 0) sent += static_cast<std::size_t>(n);
        if (n < 0 && errno != EAGAIN && errno != EINTR) return;
      }
    }
  });

  // The greedy stream is going once its answers come back (a thousand of them here).
  for (auto deadline = Clock::now() + 5s; received.load() < 64 * 1024 && Clock::now() < deadline;)
    std::this_thread::sleep_for(1ms);
  EXPECT_GE(received.load(), 64u * 1024) << "the pipelining client got no answers within 5 s";
  long long worst_ms = 0;
  for (int i = 0; i < 10; ++i) {
    const auto start = Clock::now();
    HttpResponse response;
    ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response, Method::kGet, 10s));
    EXPECT_EQ(response.status, 200);
    worst_ms = std::max<long long>(
        worst_ms,
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
  }
  done = true;
  writer.join();
  reader.join();
  EXPECT_LT(worst_ms, 1000) << "another client waited " << worst_ms << " ms for one small file";
}

// cork reads and discards a body of up to max_discard_body bytes; raised here so that one body
// keeps coming for longer than the test runs. The body loop gives up the worker after its
// per-wake budget, as the sender does after its own.
TEST(FairnessTest, AStreamedBodyDoesNotStarveOthers) {
  CorkProcess server;
  server.put("a.txt", "a\n");
  server.set("server", "threads", "1");
  server.set("http", "max_discard_body", "64G");
  server.set("http", "header_timeout", "60");
  ASSERT_TRUE(server.start());

  const UniqueFd socket = connect_plain(server.port(), /*receive_timeout=*/false);
  ASSERT_TRUE(socket);
  const int fd = socket.get();
  const std::string head = get_request("/a.txt", "Content-Length: 68719476736\r\n");  // 64 GiB
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  std::atomic<bool> done{false};
  std::atomic<std::size_t> sent{0};
  std::thread writer([&] {
    const std::string body(1 << 20, 'b');
    while (!done.load()) {
      const ssize_t n = ::send(fd, body.data(), body.size(), MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) return;
    }
  });

  // The stream is going once cork has taken some of it.
  for (auto deadline = Clock::now() + 5s; sent.load() < 64u << 20 && Clock::now() < deadline;)
    std::this_thread::sleep_for(1ms);
  EXPECT_GE(sent.load(), 64u << 20) << "cork read less than 64 MiB of the body in 5 s";
  long long worst_ms = 0;
  for (int i = 0; i < 10; ++i) {
    const auto start = Clock::now();
    HttpResponse response;
    ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response, Method::kGet, 10s));
    EXPECT_EQ(response.status, 200);
    worst_ms = std::max<long long>(
        worst_ms,
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
  }
  // The stream must still be going, or the test showed nothing.
  const std::size_t sent_by_then = sent.load();
  bool still_streaming = false;
  for (auto deadline = Clock::now() + 2s; !still_streaming && Clock::now() < deadline;) {
    std::this_thread::sleep_for(1ms);
    still_streaming = sent.load() > sent_by_then;
  }
  done = true;
  writer.join();
  EXPECT_TRUE(still_streaming) << "the body stream had stopped before the other client was done";
  EXPECT_LT(worst_ms, 1000) << "another client waited " << worst_ms << " ms for one small file";
}

}  // namespace
}  // namespace cork::integration
