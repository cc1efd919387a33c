// Clocks for deadlines and the Date header.
#include "server/clock.h"

#include <string>

#include "http/http_date.h"

namespace cork {

std::int64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::time_t wall_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return ts.tv_sec;
}

std::string_view http_date_now() {
  // Per-thread cache: no lock, no sharing between workers.
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  if (ts.tv_sec != cached_second) {
    cached_second = ts.tv_sec;
    cached = format_http_date(ts.tv_sec);
  }
  return cached;
}

}  // namespace cork
