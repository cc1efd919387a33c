// Clocks for deadlines, and the wall-clock strings of the Date header and the logs.
#include "server/clock.h"

#include <array>

#include <fmt/format.h>

#include "http/http_date.h"

namespace cork {

namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::tm utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

// Format(t), formatted again only when the second changes. Each Format has its own per-thread
// cache: no lock, no sharing between workers.
template <std::string (*Format)(std::time_t)>
std::string_view cached_per_second(std::time_t t) {
  thread_local bool valid = false;
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  if (!valid || t != cached_second) {
    cached = Format(t);
    cached_second = t;
    valid = true;
  }
  return cached;
}

}  // namespace

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

std::string format_clf_time(std::time_t t) {
  const std::tm tm = utc(t);
  return fmt::format("{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000", tm.tm_mday,
                     kMonths[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::string format_log_time(std::time_t t) {
  const std::tm tm = utc(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string_view http_date_at(std::time_t t) {
  return cached_per_second<format_http_date>(t);
}

std::string_view http_date_now() {
  return http_date_at(wall_seconds());
}

std::string_view clf_time_at(std::time_t t) {
  return cached_per_second<format_clf_time>(t);
}

std::string_view clf_time_now() {
  return clf_time_at(wall_seconds());
}

}  // namespace cork
