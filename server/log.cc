// Logger: whole lines, one write(2) each.
#include "server/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

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
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a failing log
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
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

bool Logger::open(const Config& config, std::string& error) {
  level_ = config.level;
  if (config.error_log == "-") {
    error_fd_ = 2;
  } else {
    if (!open_log(config.error_log, error_file_, error)) return false;
    error_fd_ = error_file_.get();
  }
  if (config.access_log == "off") {
    access_fd_ = -1;
  } else if (config.access_log == "-") {
    access_fd_ = 1;
  } else {
    if (!open_log(config.access_log, access_file_, error)) return false;
    access_fd_ = access_file_.get();
  }
  return true;
}

void Logger::write_error(LogLevel level, std::string_view message) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  write_all(error_fd_, fmt::format("{} [{}] {}\n", stamp, level_name(level), message));
}

void Logger::write_access(std::string_view line) {
  if (access_fd_ >= 0) write_all(access_fd_, line);
}

}  // namespace cork
