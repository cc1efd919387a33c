// ConnHandle: the name of one connection as the queue and epoll carry it.
#pragma once

#include <cstdint>

namespace cork {

// A copyable value naming one connection: the fd in the low 32 bits, a generation (never 0) in
// the high 32. Used as epoll data and as the queue item, never a pointer: a stale handle whose
// fd number was reused by a newer connection does not match that connection's generation.
struct ConnHandle {
  std::uint64_t value = 0;
  static ConnHandle make(int fd, std::uint32_t generation) {
    return {static_cast<std::uint64_t>(generation) << 32 | static_cast<std::uint32_t>(fd)};
  }
  int fd() const { return static_cast<int>(value & 0xffffffffu); }
  std::uint32_t generation() const { return static_cast<std::uint32_t>(value >> 32); }
  friend bool operator==(ConnHandle a, ConnHandle b) { return a.value == b.value; }
};

}  // namespace cork
