// Clocks: a monotonic millisecond clock for deadlines and the wall-clock Date header, each
// cheap enough for every request (coarse clocks, Date formatted once per second per thread).
#pragma once

#include <cstdint>
#include <ctime>
#include <string_view>

namespace cork {

// Monotonic milliseconds (CLOCK_MONOTONIC_COARSE: a few ms of resolution is plenty for timeouts).
std::int64_t monotonic_ms();

// Wall-clock seconds since the epoch (CLOCK_REALTIME_COARSE, the clock of the Date header).
std::time_t wall_seconds();

// The current time as an IMF-fixdate, formatted at most once per second per thread.
// The view is valid until the calling thread calls this again.
std::string_view http_date_now();

}  // namespace cork
