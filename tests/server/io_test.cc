// The system-call layer: each result maps to {ok, would-block, closed, error} as documented,
// with no SIGPIPE, and the Epoll wrapper reports every epoll_ctl failure.
#include "server/io.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "server/epoll.h"
#include "server/server_test_support.h"
#include "server/unique_fd.h"

namespace cork {
namespace {

// a: the side under test, b: its peer.
struct Pair {
  testing::SocketPair sockets;
  UniqueFd& a = sockets.server;
  UniqueFd& b = sockets.client;
};

TEST(Io, RecvMapsDataNothingAndFin) {
  Pair p;
  char buf[16];
  EXPECT_EQ(recv_some(p.a.get(), buf, sizeof buf).status, IoResult::Status::kWouldBlock);
  const IoResult sent = send_some(p.b.get(), "abc", 3);
  EXPECT_TRUE(sent.ok());
  EXPECT_EQ(sent.bytes, 3u);
  const IoResult got = recv_some(p.a.get(), buf, sizeof buf);
  EXPECT_TRUE(got.ok());
  EXPECT_EQ(std::string(buf, got.bytes), "abc");
  p.b.reset();
  EXPECT_EQ(recv_some(p.a.get(), buf, sizeof buf).status, IoResult::Status::kClosed);
}

TEST(Io, SendToAGonePeerIsAnErrorNotASignal) {
  Pair p;
  p.b.reset();
  const IoResult r = send_some(p.a.get(), "x", 1);  // SIGPIPE would end the test binary
  EXPECT_EQ(r.status, IoResult::Status::kError);
  EXPECT_EQ(r.error, EPIPE);
  const iovec parts[1] = {{const_cast<char*>("y"), 1}};
  EXPECT_EQ(send_vector(p.a.get(), parts, 1).status, IoResult::Status::kError);
}

TEST(Io, SendfileAndPreadSeeTheEndOfTheFile) {
  testing::TempRoot root;
  root.write_file("f", "0123456789");
  UniqueFd file(::open((root.path() / "f").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(file);
  Pair p;
  off_t offset = 4;
  const IoResult r = send_file(p.a.get(), file.get(), &offset, 100);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.bytes, 6u);
  EXPECT_EQ(offset, 10);
  EXPECT_EQ(send_file(p.a.get(), file.get(), &offset, 100).status, IoResult::Status::kClosed);
  char buf[4];
  const IoResult read = pread_some(file.get(), buf, sizeof buf, 2);
  EXPECT_EQ(std::string(buf, read.bytes), "2345");
  EXPECT_EQ(pread_some(file.get(), buf, sizeof buf, 10).status, IoResult::Status::kClosed);
}

TEST(Io, AcceptWithNothingWaitingWouldBlock) {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  sockaddr_storage peer{};
  EXPECT_EQ(accept_connection(listener.get(), peer).status, IoResult::Status::kWouldBlock);
  const AcceptResult bad = accept_connection(-1, peer);
  EXPECT_EQ(bad.status, IoResult::Status::kError);
  EXPECT_EQ(bad.error, EBADF);
}

TEST(Epoll, ReportsEveryControlFailure) {
  Epoll epoll;
  std::string error;
  ASSERT_TRUE(epoll.init(error)) << error;
  Pair p;
  EXPECT_EQ(epoll.modify(p.a.get(), EPOLLIN, 1), ENOENT) << "not added yet";
  EXPECT_EQ(epoll.remove(p.a.get()), ENOENT);
  EXPECT_EQ(epoll.add(p.a.get(), EPOLLIN | EPOLLONESHOT, 7), 0);
  EXPECT_EQ(epoll.add(p.a.get(), EPOLLIN, 7), EEXIST);
  EXPECT_EQ(epoll.add(-1, EPOLLIN, 1), EBADF);
  epoll_event events[4];
  EXPECT_EQ(epoll.wait(events, 4, 0), 0);
  ASSERT_TRUE(send_some(p.b.get(), "x", 1).ok());
  ASSERT_EQ(epoll.wait(events, 4, 1000), 1);
  EXPECT_EQ(events[0].data.u64, 7u);
  EXPECT_EQ(epoll.wait(events, 4, 0), 0) << "one-shot: disarmed until modified";
  EXPECT_EQ(epoll.modify(p.a.get(), EPOLLIN | EPOLLONESHOT, 8), 0);
  ASSERT_EQ(epoll.wait(events, 4, 1000), 1) << "level-triggered: the unread byte fires again";
  EXPECT_EQ(events[0].data.u64, 8u);
  EXPECT_EQ(epoll.remove(p.a.get()), 0);
}

}  // namespace
}  // namespace cork
