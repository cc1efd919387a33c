// Logger: whole lines, written at once or by the error log's own thread.
#include "server/log.h"

#include <cassert>
#include <chrono>
#include <deque>
#include <vector>

#include "server/clock.h"

namespace cork {

namespace {

// How often the writer thread wakes without lines: the coalesced counts and the drop reports
// wait for no new line.
constexpr std::chrono::seconds kTick{1};

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

std::string error_line(LogLevel level, std::string_view message) {
  return fmt::format("{} [{}] {}\n", format_log_time(wall_seconds()), level_name(level), message);
}

}  // namespace

Logger::~Logger() {
  stop_writer();
  flush_repeats(LogCoalescer::kEverything);
}

void Logger::start_writer() {
  assert(!writer_.joinable() && !queue_.closed());
  writer_ = std::thread([this] { run_writer(); });
  queued_.store(true, std::memory_order_release);
}

void Logger::stop_writer() {
  if (!writer_.joinable()) return;
  queue_.close();  // a line that still finds queued_ set is written at once
  writer_.join();
  queued_.store(false, std::memory_order_release);
  flush_repeats(LogCoalescer::kEverything);
}

void Logger::run_writer() {
  std::deque<std::string> batch;
  std::string out;
  std::uint64_t reported_full = 0;
  std::uint64_t reported_failed = 0;
  auto last_report = std::chrono::steady_clock::now() - kTick;
  for (;;) {
    const bool more = queue_.pop_all_for(batch, kTick);
    out.clear();
    for (const std::string& line : batch)
      out.append(line);
    batch.clear();
    for (const LogCoalescer::Summary& summary : repeats_.flush(clock_->monotonic_ms()))
      out.append(error_line(summary.level, summary.line));
    if (!out.empty()) write_error_lines(out);  // one write(2) for the batch
    // The drops, once the log takes lines again: at most once a second, and at the end.
    const std::uint64_t full = queue_full_.load(std::memory_order_relaxed);
    const std::uint64_t failed = write_failed_.load(std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if ((full != reported_full || failed != reported_failed) &&
        (now - last_report >= kTick || !more)) {
      std::string report;
      if (full != reported_full) {
        report += error_line(LogLevel::kWarn,
                             fmt::format("error log queue full: {} lines dropped ({} in all)",
                                         full - reported_full, full + failed));
      }
      if (failed != reported_failed) {
        report += error_line(LogLevel::kWarn,
                             fmt::format("error log write failed: {} lines dropped ({} in all)",
                                         failed - reported_failed, full + failed));
      }
      // Reported only once it is written: a log that still fails hears of it later.
      if (error_file_.write_lines(report).lines == 0) {
        reported_full = full;
        reported_failed = failed;
      }
      last_report = now;
    }
    if (!more) return;
  }
}

bool Logger::point_at(LogFile& file, const std::string& path, std::string& error) {
  LogFile::Opened opened;
  if (!file.open(path, opened, error)) return false;
  file.switch_to(std::move(opened));
  return true;
}

bool Logger::check_paths(const Config& config, std::string& error) {
  if (!LogFile::check(config.error_log, error)) return false;
  return config.access_log == "off" || LogFile::check(config.access_log, error);
}

bool Logger::open(const Config& config, std::string& error) {
  return reconfigure(config, error);
}

bool Logger::reconfigure(const Config& config, std::string& error) {
  // Every new file is opened first; only when all of them are is anything switched.
  const bool new_error = config.error_log != error_path_ || !error_file_.is_open();
  const bool new_access =
      config.access_log != "off" && (config.access_log != access_path_ || !access_file_.is_open());
  LogFile::Opened error_opened;
  LogFile::Opened access_opened;
  if (new_error && !error_file_.open(config.error_log, error_opened, error)) return false;
  if (new_access && !access_file_.open(config.access_log, access_opened, error)) {
    error_opened.discard();
    return false;
  }
  // Switching cannot fail (LogFile::switch_to).
  if (new_error) {
    error_file_.switch_to(std::move(error_opened));
    error_path_ = config.error_log;
  }
  if (new_access) access_file_.switch_to(std::move(access_opened));
  access_on_.store(config.access_log != "off", std::memory_order_release);
  access_path_ = config.access_log;
  level_.store(config.level, std::memory_order_relaxed);
  return true;
}

bool Logger::reopen(std::string& error) {
  // Each file on its own: after logrotate, an error log that opens is worth having even when
  // the access log does not.
  std::string error_log_error;
  std::string access_log_error;
  const bool error_ok = point_at(error_file_, error_path_, error_log_error);
  const bool access_ok =
      access_path_ == "off" || point_at(access_file_, access_path_, access_log_error);
  if (error_ok && access_ok) return true;
  error = !error_ok && !access_ok ? error_log_error + "; " + access_log_error
                                  : error_log_error + access_log_error;
  return false;
}

void Logger::write_error(LogLevel level, std::string_view message) {
  std::string line = error_line(level, message);
  if (queued_.load(std::memory_order_acquire)) {
    if (queue_.try_push(line)) return;
    if (!queue_.closed()) {
      queue_full_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // Closed: the writer is stopping; write it here.
  }
  // Before open() (start-up errors) the error log is stderr itself.
  write_error_lines(line);
}

void Logger::write_error_lines(std::string_view lines) {
  const LogFile::Failure failure = error_file_.write_lines(lines);
  if (failure.lines > 0) write_failed_.fetch_add(failure.lines, std::memory_order_relaxed);
}

void Logger::write_first(LogLevel level, const void* key, std::int64_t now_ms,
                         const std::string& message) {
  std::vector<LogCoalescer::Summary> ended;
  const bool first = repeats_.first(key, now_ms, level, message, ended);
  for (const LogCoalescer::Summary& summary : ended)
    write_error(summary.level, summary.line);
  if (first) write_error(level, message);
}

void Logger::flush_repeats(std::int64_t now_ms) {
  for (const LogCoalescer::Summary& summary : repeats_.flush(now_ms))
    write_error(summary.level, summary.line);
}

LogFile::Failure Logger::write_access(std::string_view lines) {
  if (!access_enabled()) return {};
  return access_file_.write_lines(lines);
}

}  // namespace cork
