// LogCoalescer: one line a second, at most, for a message that can repeat per request or per
// connection (queue full, 503 for ..., accept failing). The first occurrence is logged; the
// repeats within the next second are only counted, and when that second is over one line sums
// them up: "<one of them> (and N more in the last second)" (a single repeat is logged as
// itself). While the repeats go on, so does one summary a second; the count of every line plus
// one adds up to the occurrences.
//
// Messages are told apart by a key: the address of the call site's format string, so that
// "503 for /a" and "503 for /b" are the same message. A repeat costs an atomic load and an
// atomic add, and no formatting; only the first occurrence of a second, and one repeat a
// second (the example shown in the summary), are formatted. The summaries are written by
// whoever calls flush(): the error log's thread once a second, and the logger at shutdown;
// before that thread runs, the next occurrence after the second writes the summary.
// Knows nothing of files: the logger writes the lines.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "server/config.h"

namespace cork {

// Neither copyable nor movable (threads hold references). Every member is safe to call from any
// thread.
class LogCoalescer {
 public:
  static constexpr std::int64_t kWindowMs = 1000;
  // Distinct messages coalesced; beyond them a message is logged every time. Call sites are
  // a handful.
  static constexpr std::size_t kKeys = 64;

  // Copyable value: a line that sums up the repeats of a second.
  struct Summary {
    LogLevel level = LogLevel::kWarn;
    std::string line;  // the message with its count
  };

  LogCoalescer() = default;
  LogCoalescer(const LogCoalescer&) = delete;
  LogCoalescer& operator=(const LogCoalescer&) = delete;

  enum class Verdict {
    kLog,           // no second is running for this key: format it and call first()
    kCountedFirst,  // counted; the first repeat of this second: format it for example()
    kCounted,       // counted; nothing else to do
  };
  // One occurrence of the message at `key`. Lock-free.
  Verdict occur(const void* key, std::int64_t now_ms);
  // After kLog: starts the second with `message`. True when the caller logs it; false when
  // another thread started the second meanwhile (then this one is counted). A summary of the
  // second before, not yet flushed, goes to `ended` (to be logged before `message`).
  bool first(const void* key, std::int64_t now_ms, LogLevel level, const std::string& message,
             std::vector<Summary>& ended);
  // After kCountedFirst: the text the summary of this second shows.
  void example(const void* key, std::string message);
  // The summaries of the seconds over by `now_ms`; each key with repeats goes on counting in a
  // new second. flush(kEverything) takes every count, at shutdown.
  static constexpr std::int64_t kEverything = INT64_MAX;
  std::vector<Summary> flush(std::int64_t now_ms);

 private:
  struct Entry {
    std::atomic<const void*> key{nullptr};
    std::atomic<std::int64_t> window_end_ms{0};  // occurrences before it are counted
    std::atomic<std::uint64_t> repeats{0};
    std::mutex mutex;  // taken once a second at most, by the first occurrence or the flush
    LogLevel level = LogLevel::kWarn;  // guarded by mutex
    std::string example;               // guarded by mutex
  };

  // The entry for `key`, claimed on first use; nullptr when every entry is taken.
  Entry* find(const void* key);
  // Takes `e`'s repeats into a summary (if any). `e.mutex` held.
  static void take(Entry& e, std::vector<Summary>& out);

  std::array<Entry, kKeys> entries_;
};

}  // namespace cork
