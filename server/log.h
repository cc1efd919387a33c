// Logger: the error log (time, level, message) and the access log (combined log format).
// Each line is formatted whole and written with one write(2), so lines from different threads
// never interleave. Passed by reference to whoever logs; there is no global logger.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "server/config.h"
#include "server/unique_fd.h"

namespace cork {

// Neither copyable nor movable: components keep references to it.
class Logger {
 public:
  // A logger writing errors to stderr and no access log; used before the config is read.
  Logger() = default;
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Opens the files named by the config ("-" = stdout/stderr). False with `error` set when a
  // file cannot be opened. Not safe to call concurrently with logging.
  bool open(const Config& config, std::string& error);

  bool enabled(LogLevel level) const { return level >= level_; }
  bool access_enabled() const { return access_fd_ >= 0; }

  // Safe to call from any thread.
  void write_error(LogLevel level, std::string_view message);
  // Safe to call from any thread. `line` must end with '\n'.
  void write_access(std::string_view line);

  template <class... Args>
  void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(level)) write_error(level, fmt::format(format, std::forward<Args>(args)...));
  }

 private:
  LogLevel level_ = LogLevel::kInfo;
  UniqueFd error_file_;   // owned when error_log is a path
  UniqueFd access_file_;  // owned when access_log is a path
  int error_fd_ = 2;      // borrows stderr or error_file_
  int access_fd_ = -1;    // borrows stdout or access_file_; -1 = off
};

}  // namespace cork
