// Listener: socket(2), bind(2), listen(2) and their errors as one readable line.
#include "server/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "server/address.h"

namespace cork {

bool open_listener(const std::string& host, int port, int backlog, UniqueFd& out,
                   std::string& bound, std::string& error) {
  const std::string name = host == "localhost" ? "127.0.0.1" : host;
  const std::optional<IpAddress> ip = parse_ip_address(name);
  if (!ip) {
    error = fmt::format("cannot listen on {}: not an IP address", host);
    return false;
  }
  const SocketAddress addr = socket_address(*ip, port);

  UniqueFd fd(::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = fmt::format("cannot create socket: {}", std::strerror(errno));
    return false;
  }
  const int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    error = fmt::format("cannot set SO_REUSEADDR: {}", std::strerror(errno));
    return false;
  }
  // Accepted sockets inherit TCP_NODELAY from the listener (Linux copies it into each child):
  // responses are written whole, and a pipelined second response must not wait for the ACK
  // of the first (Nagle with delayed ACKs). One call here instead of one per connection.
  (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Accept a connection only once its first bytes have arrived (or after about a second, when
  // the kernel gives up waiting and hands it over anyway): the reactor then passes it straight
  // to a worker that finds the request already there. Best effort; without it the worker just
  // waits for the request in epoll.
  const int defer_seconds = 1;
  (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_seconds, sizeof defer_seconds);
  if (::bind(fd.get(), addr.get(), addr.length) != 0 || ::listen(fd.get(), backlog) != 0) {
    const int failure = errno;  // before format_host_port can touch errno
    error = fmt::format("cannot listen on {}: {}", format_host_port(name, port),
                        std::strerror(failure));
    return false;
  }
  sockaddr_storage actual{};
  socklen_t actual_len = sizeof actual;
  int actual_port = port;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&actual), &actual_len) == 0) {
    actual_port = port_of(actual);
  }
  bound = format_host_port(name, actual_port);
  out = std::move(fd);
  return true;
}

}  // namespace cork
