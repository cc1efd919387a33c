// Shared pieces of the server/ unit tests.
#include "server/server_test_support.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

namespace cork::testing {

SocketPair::SocketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  server.reset(fds[0]);
  client.reset(fds[1]);
}

std::string receive_available(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::shared_ptr<const Settings> settings_for(const TempRoot& root, Config config) {
  config.root = root.path().string();
  std::string error;
  std::shared_ptr<const Settings> settings = make_settings(config, error);
  EXPECT_TRUE(settings) << error;
  return settings;
}

sockaddr_storage loopback_peer() {
  sockaddr_storage peer{};
  auto& in = reinterpret_cast<sockaddr_in&>(peer);
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return peer;
}

}  // namespace cork::testing
