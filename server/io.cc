// The socket system calls, each with its EINTR loop and errno mapping in one place.
#include "server/io.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <unistd.h>

#include <cerrno>

namespace cork {

namespace {

// The common mapping of a -1/errno result. EINTR never reaches it: callers retry first.
IoResult failure(int error) {
  IoResult r;
  r.error = error;
  r.status = (error == EAGAIN || error == EWOULDBLOCK) ? IoResult::Status::kWouldBlock
                                                       : IoResult::Status::kError;
  return r;
}

// Runs `call` until it returns something other than -1/EINTR; 0 maps to `on_zero`.
template <class Call>
IoResult retry(Call call, IoResult::Status on_zero) {
  for (;;) {
    const ssize_t n = call();
    if (n > 0) return {IoResult::Status::kOk, static_cast<std::size_t>(n), 0};
    // A write that moved nothing reports EIO, so that callers never print errno 0.
    if (n == 0) return {on_zero, 0, on_zero == IoResult::Status::kError ? EIO : 0};
    if (errno != EINTR) return failure(errno);
  }
}

}  // namespace

IoResult recv_some(int fd, char* buffer, std::size_t size, int flags) {
  return retry([&] { return ::recv(fd, buffer, size, flags); }, IoResult::Status::kClosed);
}

IoResult send_some(int fd, const char* data, std::size_t size, int flags) {
  // A zero-byte send of a non-empty buffer does not happen on a stream socket; treat it as an
  // error rather than loop on it.
  return retry([&] { return ::send(fd, data, size, flags | MSG_NOSIGNAL); },
               IoResult::Status::kError);
}

IoResult send_vector(int fd, const iovec* buffers, int count) {
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(buffers);
  message.msg_iovlen = static_cast<std::size_t>(count);
  return retry([&] { return ::sendmsg(fd, &message, MSG_NOSIGNAL); }, IoResult::Status::kError);
}

IoResult send_file(int socket, int file, off_t* offset, std::size_t count) {
  return retry([&] { return ::sendfile(socket, file, offset, count); }, IoResult::Status::kClosed);
}

IoResult read_some(int fd, void* buffer, std::size_t size) {
  return retry([&] { return ::read(fd, buffer, size); }, IoResult::Status::kClosed);
}

IoResult pread_some(int fd, void* buffer, std::size_t size, off_t offset) {
  return retry([&] { return ::pread(fd, buffer, size, offset); }, IoResult::Status::kClosed);
}

IoResult write_some(int fd, const void* data, std::size_t size) {
  return retry([&] { return ::write(fd, data, size); }, IoResult::Status::kError);
}

bool wait_writable(int fd) {
  pollfd entry{fd, POLLOUT, 0};
  for (;;) {
    if (::poll(&entry, 1, -1) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

AcceptResult accept_connection(int listener, sockaddr_storage& peer) {
  for (;;) {
    socklen_t length = sizeof peer;
    const int fd = ::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return {IoResult::Status::kOk, fd, 0};
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    const IoResult r = failure(errno);
    return {r.status, -1, r.error};
  }
}

bool set_cork(int fd, bool on) {
  const int value = on ? 1 : 0;
  return ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, sizeof value) == 0;
}

bool set_notsent_lowat(int fd, int bytes) {
  return ::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &bytes, sizeof bytes) == 0;
}

bool shutdown_write(int fd) {
  return ::shutdown(fd, SHUT_WR) == 0;
}

}  // namespace cork
