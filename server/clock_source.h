// ClockSource: the times a connection and its handler need, as a parameter, so that their
// tests run on a fake clock instead of waiting. The server passes SystemClock.
#pragma once

#include <cstdint>
#include <ctime>
#include <string_view>

#include "server/access_line.h"
#include "server/clock.h"

namespace cork {

// Interface; implementations say their own copy rule. Safe to call from any thread.
class ClockSource {
 public:
  virtual ~ClockSource() = default;
  // Monotonic milliseconds, for deadlines and durations.
  virtual std::int64_t monotonic_ms() const = 0;
  // Wall-clock seconds, for validators (If-Range's strong-date rule).
  virtual std::time_t wall_seconds() const = 0;
  // The Date field's value for now; valid until the calling thread asks again.
  virtual std::string_view http_date() const = 0;
  // The access log's time of now ("%d/%b/%Y:%H:%M:%S +0000"); valid like http_date().
  virtual std::string_view access_log_time() const = 0;
};

// The system's coarse clocks (server/clock.h). Stateless; copyable.
class SystemClock final : public ClockSource {
 public:
  std::int64_t monotonic_ms() const override { return cork::monotonic_ms(); }
  std::time_t wall_seconds() const override { return cork::wall_seconds(); }
  std::string_view http_date() const override { return http_date_now(); }
  std::string_view access_log_time() const override { return access_log_time_now(); }
};

}  // namespace cork
