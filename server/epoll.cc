// Epoll: checked epoll_ctl and epoll_wait.
#include "server/epoll.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace cork {

bool Epoll::init(std::string& error) {
  fd_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!fd_) {
    error = fmt::format("epoll_create1: {}", std::strerror(errno));
    return false;
  }
  return true;
}

int Epoll::control(int op, int fd, std::uint32_t events, std::uint64_t data) const {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data;
  return ::epoll_ctl(fd_.get(), op, fd, &ev) == 0 ? 0 : errno;
}

int Epoll::add(int fd, std::uint32_t events, std::uint64_t data) const {
  return control(EPOLL_CTL_ADD, fd, events, data);
}

int Epoll::modify(int fd, std::uint32_t events, std::uint64_t data) const {
  return control(EPOLL_CTL_MOD, fd, events, data);
}

int Epoll::remove(int fd) const {
  return ::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr) == 0 ? 0 : errno;
}

int Epoll::wait(epoll_event* events, int max, int timeout_ms) const {
  const int n = ::epoll_wait(fd_.get(), events, max, timeout_ms);
  if (n >= 0) return n;
  // A signal interrupted the wait: the caller's loop looks at its timers and waits again.
  return errno == EINTR ? 0 : -errno;
}

}  // namespace cork
