// Epoll: the reactor's epoll instance. Every epoll_ctl result is checked and returned as an
// errno value (0 = success); EINTR in epoll_wait is retried here. Owns the epoll descriptor;
// the descriptors it watches are borrowed.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <string>

#include "server/unique_fd.h"

namespace cork {

// Move-only (owns the epoll descriptor). add/modify/remove are safe from any thread (the
// kernel serializes them); wait from the reactor thread.
class Epoll {
 public:
  // False with `error` set ("epoll_create1: ...") when the instance cannot be made.
  bool init(std::string& error);

  // 0 or an errno value.
  int add(int fd, std::uint32_t events, std::uint64_t data) const;
  int modify(int fd, std::uint32_t events, std::uint64_t data) const;
  int remove(int fd) const;

  // Up to `max` events within `timeout_ms`; 0 after a timeout (or a signal), -errno on failure.
  int wait(epoll_event* events, int max, int timeout_ms) const;

 private:
  int control(int op, int fd, std::uint32_t events, std::uint64_t data) const;

  UniqueFd fd_;
};

}  // namespace cork
