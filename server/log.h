// Logger: the error log (time, level, message) and the access log (combined log format).
// Each line is formatted whole and written in one write(2) with whole lines only (one, or a
// batch), so lines from different threads never interleave; a write that fails never leaves
// half a line (server/log_file.h). Messages that can repeat per request or per connection go
// through log_coalesced(): one line a second at most, with a count (server/log_coalescer.h).
// Passed by reference to whoever logs; there is no global logger.
//
// While the server runs (start_writer() .. stop_writer()) error lines go to a thread of their
// own through a bounded queue, so that no worker or reactor thread ever waits for a slow
// stderr (a `docker logs` pipe, a stopped reader): a full queue drops the line and counts it
// (error_dropped(), on the status page), and the count is written once the error log takes
// lines again. Before and after, lines are written at once on the caller's thread (start-up
// errors, the last lines at exit). The access log has its thread in AccessLog.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "pool/blocking_queue.h"
#include "server/clock_source.h"
#include "server/config.h"
#include "server/log_coalescer.h"
#include "server/log_file.h"

namespace cork {

// Neither copyable nor movable: components keep references to it.
//
// The descriptors written to never change number while the server runs: reopening a log
// (SIGUSR1, logrotate) or pointing it elsewhere (SIGHUP) dup3()s the new file onto the same
// number, which is atomic for threads writing at that moment. "-" is a dup of stdout/stderr.
class Logger {
 public:
  // Error lines the queue holds while the error log is slow (some 40 KiB).
  static constexpr std::size_t kQueueLines = 512;

  // A logger writing errors to stderr and no access log; used before the config is read.
  Logger() : Logger(system_clock_) {}
  // The same, timing the coalesced messages' seconds by `clock`, with a queue of
  // `queue_lines` (tests).
  explicit Logger(const ClockSource& clock, std::size_t queue_lines = kQueueLines)
      : clock_(&clock), queue_(queue_lines) {}
  // Stops the writer thread (stop_writer()) and writes the counts still pending.
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Whether the files named by the config can be opened for appending, leaving nothing behind
  // (--check, and before the start). False with `error` set: "cannot open log file PATH: ...".
  static bool check_paths(const Config& config, std::string& error);
  // Opens the files named by the config ("-" = stdout/stderr). False with `error` set when a
  // file cannot be opened. Call once, before other threads log.
  bool open(const Config& config, std::string& error);
  // SIGHUP: new level and log paths, all or nothing: every new file is opened before any is
  // switched to, and when one cannot be opened (false, `error` set) the files and the level
  // all stay as they were, and a file the attempt created is removed. Reactor thread only;
  // safe while other threads log.
  bool reconfigure(const Config& config, std::string& error);
  // SIGUSR1: opens the same paths again (after logrotate moved the files away). Each file that
  // opens is switched to; false with `error` set for those that do not. Reactor thread only;
  // safe while other threads log.
  bool reopen(std::string& error);

  // Starts the error log's thread: from here on write_error() queues the line and returns.
  // The thread also writes the counts of coalesced messages once a second. Call once, before
  // the server's threads log.
  void start_writer();
  // Writes every queued line and every pending count, then stops the thread; lines are
  // written at once again from here on. Idempotent; not at the same time as start_writer().
  void stop_writer();
  // Error log lines lost because the queue was full or the write failed. Safe from any thread.
  std::uint64_t error_dropped() const {
    return queue_full_.load(std::memory_order_relaxed) +
           write_failed_.load(std::memory_order_relaxed);
  }

  bool enabled(LogLevel level) const { return level >= level_.load(std::memory_order_relaxed); }
  bool access_enabled() const { return access_on_.load(std::memory_order_acquire); }

  // Safe to call from any thread. Never waits for the error log while the writer thread runs.
  void write_error(LogLevel level, std::string_view message);
  // Safe to call from any thread. `lines` must end with '\n'. What could not be written whole
  // (the access log's thread counts those lines as dropped); nothing when the log is off.
  LogFile::Failure write_access(std::string_view lines);

  template <class... Args>
  void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(level)) write_error(level, fmt::format(format, std::forward<Args>(args)...));
  }

  // log() for a message that can repeat per request or per connection: the first occurrence is
  // logged, the repeats of the following second are counted (not even formatted) and summed up
  // in one line, "<message> (and N more in the last second)". Messages are told apart by their
  // format string (its call site), not by their arguments. Safe to call from any thread.
  template <class... Args>
  void log_coalesced(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (!enabled(level)) return;
    const void* key = static_cast<fmt::string_view>(format).data();  // the call site
    const std::int64_t now_ms = clock_->monotonic_ms();
    switch (repeats_.occur(key, now_ms)) {
      case LogCoalescer::Verdict::kCounted:
        return;
      case LogCoalescer::Verdict::kCountedFirst:
        repeats_.example(key, fmt::format(format, std::forward<Args>(args)...));
        return;
      case LogCoalescer::Verdict::kLog:
        write_first(level, key, now_ms, fmt::format(format, std::forward<Args>(args)...));
        return;
    }
  }
  // Writes the summaries of the coalesced seconds that are over by now (all of them with
  // LogCoalescer::kEverything). Safe to call from any thread.
  void flush_repeats(std::int64_t now_ms);

 private:
  // Points `file` at `path` (opened now).
  static bool point_at(LogFile& file, const std::string& path, std::string& error);
  // log_coalesced() when the message is not a repeat.
  void write_first(LogLevel level, const void* key, std::int64_t now_ms,
                   const std::string& message);

  // Writes error lines until stop_writer() closes the queue.
  void run_writer();
  // Writes `lines` to the error log now and counts the lines that failed.
  void write_error_lines(std::string_view lines);

  const SystemClock system_clock_;
  const ClockSource* clock_;

  std::atomic<LogLevel> level_{LogLevel::kInfo};
  LogFile error_file_{2};   // a file, or a dup of stderr; stderr itself until open()
  LogFile access_file_{1};  // a file, or a dup of stdout; open once the access log was ever on
  std::atomic<bool> access_on_{false};
  std::string error_path_ = "-";
  std::string access_path_ = "off";
  LogCoalescer repeats_;
  BlockingQueue<std::string> queue_;  // error lines for the writer thread
  std::atomic<bool> queued_{false};   // the writer thread runs: write_error() queues
  std::atomic<std::uint64_t> queue_full_{0};
  std::atomic<std::uint64_t> write_failed_{0};
  std::thread writer_;
};

}  // namespace cork
