// Logger: whole lines, one write(2) each.
#include "server/log.h"

#include <vector>

#include "server/clock.h"

namespace cork {

namespace {

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

}  // namespace

Logger::~Logger() {
  flush_repeats(LogCoalescer::kEverything);
}

bool Logger::point_at(LogFile& file, const std::string& path, std::string& error) {
  LogFile::Opened opened;
  if (!file.open(path, opened, error)) return false;
  file.switch_to(std::move(opened));
  return true;
}

bool Logger::open(const Config& config, std::string& error) {
  return reconfigure(config, error);
}

bool Logger::reconfigure(const Config& config, std::string& error) {
  if (config.error_log != error_path_ || !error_file_.is_open()) {
    if (!point_at(error_file_, config.error_log, error)) return false;
    error_path_ = config.error_log;
  }
  if (config.access_log == "off") {
    access_on_.store(false, std::memory_order_release);
  } else if (config.access_log != access_path_ || !access_file_.is_open()) {
    if (!point_at(access_file_, config.access_log, error)) return false;
    access_on_.store(true, std::memory_order_release);
  }
  access_path_ = config.access_log;
  level_.store(config.level, std::memory_order_relaxed);
  return true;
}

bool Logger::reopen(std::string& error) {
  if (!point_at(error_file_, error_path_, error)) return false;
  if (access_path_ != "off" && !point_at(access_file_, access_path_, error)) return false;
  return true;
}

void Logger::write_error(LogLevel level, std::string_view message) {
  // Before open() (start-up errors) the error log is stderr itself.
  (void)error_file_.write_lines(
      fmt::format("{} [{}] {}\n", format_log_time(wall_seconds()), level_name(level), message));
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
