// Clocks and the time strings made from them: a monotonic millisecond clock for deadlines, the
// wall clock, and the three ways cork writes a wall-clock time (the Date header, the access
// log's Common Log Format time, the error log's ISO 8601 time). Each is cheap enough for every
// request: coarse clocks, and the per-request strings formatted once per second per thread.
// The *_at functions take the time as a parameter, so that callers with an injected clock (and
// tests) need not read the real one.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace cork {

// Monotonic milliseconds (CLOCK_MONOTONIC_COARSE: a few ms of resolution is plenty for timeouts).
std::int64_t monotonic_ms();

// Wall-clock seconds since the epoch (CLOCK_REALTIME_COARSE, the clock of the Date header).
std::time_t wall_seconds();

// `t` in the Common Log Format, always UTC: "10/Oct/2000:13:55:36 +0000" (what goes between
// the brackets of an access-log line). Pure; no locale.
std::string format_clf_time(std::time_t t);

// `t` in ISO 8601, UTC: "2000-10-10T13:55:36Z" (the error log's per-line time). Pure.
std::string format_log_time(std::time_t t);

// `t` as an IMF-fixdate (format_http_date), formatted at most once per second per thread. The
// view is valid until the calling thread calls http_date_at or http_date_now again.
std::string_view http_date_at(std::time_t t);
// http_date_at(wall_seconds()).
std::string_view http_date_now();

// `t` as format_clf_time, formatted at most once per second per thread. The view is valid until
// the calling thread calls clf_time_at or clf_time_now again.
std::string_view clf_time_at(std::time_t t);
// clf_time_at(wall_seconds()).
std::string_view clf_time_now();

}  // namespace cork
