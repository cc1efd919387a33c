// ClockSource: the times a connection and its handler need, as a parameter, so that their
// tests run on a fake clock instead of waiting. The server passes SystemClock.
#pragma once

#include <cstdint>
#include <ctime>

#include "server/clock.h"

namespace cork {

// Interface; implementations say their own copy rule. Safe to call from any thread.
class ClockSource {
 public:
  virtual ~ClockSource() = default;
  // Monotonic milliseconds, for deadlines and durations.
  virtual std::int64_t monotonic_ms() const = 0;
  // Wall-clock seconds: validators (If-Range's strong-date rule), and the Date field and the
  // access log's time through clock.h's per-second formatters (http_date_at, clf_time_at).
  virtual std::time_t wall_seconds() const = 0;
};

// The system's coarse clocks (server/clock.h). Stateless; copyable.
class SystemClock final : public ClockSource {
 public:
  std::int64_t monotonic_ms() const override { return cork::monotonic_ms(); }
  std::time_t wall_seconds() const override { return cork::wall_seconds(); }
};

}  // namespace cork
