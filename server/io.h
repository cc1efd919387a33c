// The read/write system calls of the server (sockets, files, inotify, signalfd, eventfd), each
// in one place: EINTR is retried here and nowhere else, and the rest of the server sees
// {bytes, would-block, closed, error} instead of -1 and errno. The descriptors are borrowed:
// nothing here closes one (accept_connection() returns a new one to its caller).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

namespace cork {

// Copyable value: the result of one I/O call.
struct IoResult {
  enum class Status : std::uint8_t {
    kOk,          // `bytes` moved (> 0)
    kWouldBlock,  // EAGAIN: wait for readiness
    kClosed,      // recv/read: end of stream (FIN); sendfile/pread: the file ended
    kError,       // anything else; `error` is the errno value
  };
  Status status = Status::kOk;
  std::size_t bytes = 0;
  int error = 0;
  bool ok() const { return status == Status::kOk; }
};

// recv(); `flags` as for recv (MSG_DONTWAIT, ...).
IoResult recv_some(int fd, char* buffer, std::size_t size, int flags = 0);
// send() with MSG_NOSIGNAL (a closed peer is an error, never SIGPIPE).
IoResult send_some(int fd, const char* data, std::size_t size, int flags = 0);
// sendmsg() of `count` buffers with MSG_NOSIGNAL.
IoResult send_vector(int fd, const iovec* buffers, int count);
// sendfile() from `file` at *offset (advanced by what was sent; the file position is untouched).
IoResult send_file(int socket, int file, off_t* offset, std::size_t count);

// read() / pread() at `offset` / write().
IoResult read_some(int fd, void* buffer, std::size_t size);
IoResult pread_some(int fd, void* buffer, std::size_t size, off_t offset);
IoResult write_some(int fd, const void* data, std::size_t size);
// Waits until `fd` can take more bytes (or has failed, which the next write reports): for a
// thread that may wait and met kWouldBlock on a descriptor someone else made non-blocking (a
// log on an inherited O_NONBLOCK pipe). False when poll() itself fails.
bool wait_writable(int fd);

// accept4() of a non-blocking, close-on-exec socket: the new descriptor in `fd` with kOk, or
// kWouldBlock when none is waiting. Connections that died in the backlog (ECONNABORTED, EPROTO)
// are skipped, like EINTR; every other failure (EMFILE, ENFILE, ENOBUFS, ENOMEM) is kError.
struct AcceptResult {
  IoResult::Status status = IoResult::Status::kOk;
  int fd = -1;
  int error = 0;
};
AcceptResult accept_connection(int listener, sockaddr_storage& peer);

// Socket options that only cost packet boundaries or memory when they fail: best effort, and
// false on failure for those who want to count it.
bool set_cork(int fd, bool on);             // TCP_CORK
bool set_notsent_lowat(int fd, int bytes);  // TCP_NOTSENT_LOWAT
bool shutdown_write(int fd);                // shutdown(SHUT_WR): FIN after what is queued

}  // namespace cork
