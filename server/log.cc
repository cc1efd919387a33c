// Logger: whole lines, one write(2) each.
#include "server/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/clock.h"
#include "server/io.h"

namespace cork {

namespace {

bool open_log(const std::string& path, UniqueFd& out, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = fmt::format("cannot open log file {}: {}", path, std::strerror(errno));
    return false;
  }
  out.reset(fd);
  return true;
}

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const IoResult r = write_some(fd, bytes.data(), bytes.size());
    if (!r.ok()) return;  // nowhere left to report a failing log
    bytes.remove_prefix(r.bytes);
  }
}

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

bool Logger::point_at(const std::string& path, int standard, UniqueFd& fd, std::string& error) {
  UniqueFd fresh;
  if (path == "-") {
    fresh.reset(::fcntl(standard, F_DUPFD_CLOEXEC, 0));
    if (!fresh) {
      error = fmt::format("cannot duplicate fd {}: {}", standard, std::strerror(errno));
      return false;
    }
  } else if (!open_log(path, fresh, error)) {
    return false;
  }
  if (!fd) {
    fd = std::move(fresh);
    return true;
  }
  // Atomically replaces the open file behind fd's number; writers never see a closed number.
  if (::dup3(fresh.get(), fd.get(), O_CLOEXEC) < 0) {
    error = fmt::format("cannot reopen log {}: {}", path, std::strerror(errno));
    return false;
  }
  return true;
}

bool Logger::open(const Config& config, std::string& error) {
  return reconfigure(config, error);
}

bool Logger::reconfigure(const Config& config, std::string& error) {
  if (config.error_log != error_path_ || !error_fd_) {
    if (!point_at(config.error_log, 2, error_fd_, error)) return false;
    error_path_ = config.error_log;
  }
  if (config.access_log == "off") {
    access_on_.store(false, std::memory_order_release);
  } else if (config.access_log != access_path_ || !access_fd_) {
    if (!point_at(config.access_log, 1, access_fd_, error)) return false;
    access_on_.store(true, std::memory_order_release);
  }
  access_path_ = config.access_log;
  level_.store(config.level, std::memory_order_relaxed);
  return true;
}

bool Logger::reopen(std::string& error) {
  if (!point_at(error_path_, 2, error_fd_, error)) return false;
  if (access_path_ != "off" && !point_at(access_path_, 1, access_fd_, error)) return false;
  return true;
}

void Logger::write_error(LogLevel level, std::string_view message) {
  // Before open() (start-up errors) the error log is stderr itself.
  const int fd = error_fd_ ? error_fd_.get() : 2;
  write_all(
      fd, fmt::format("{} [{}] {}\n", format_log_time(wall_seconds()), level_name(level), message));
}

void Logger::write_access(std::string_view line) {
  if (access_enabled()) write_all(access_fd_.get(), line);
}

}  // namespace cork
