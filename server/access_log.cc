// AccessLog: one writer thread, batches of lines, drops counted instead of blocking workers.
#include "server/access_log.h"

#include <chrono>
#include <cstring>
#include <deque>

namespace cork {

namespace {

// How often the thread wakes without lines: the drop reports wait for no new line.
constexpr std::chrono::seconds kReportInterval{1};

}  // namespace

AccessLog::AccessLog(Logger& log, std::size_t capacity)
    : log_(log), queue_(capacity), thread_([this] { run(); }) {}

AccessLog::~AccessLog() {
  stop();
}

void AccessLog::submit(std::string line) {
  if (!queue_.try_push(line)) queue_full_.fetch_add(1, std::memory_order_relaxed);
}

void AccessLog::stop() {
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

void AccessLog::run() {
  std::deque<std::string> batch;
  std::string out;
  std::uint64_t reported_full = 0;
  std::uint64_t reported_failed = 0;
  int write_error = 0;
  auto last_report = std::chrono::steady_clock::now() - kReportInterval;
  for (;;) {
    const bool more = queue_.pop_all_for(batch, kReportInterval);
    if (!batch.empty()) {
      out.clear();
      for (const std::string& line : batch)
        out.append(line);
      batch.clear();
      const LogFile::Failure failure = log_.write_access(out);  // one write(2) for the batch
      if (failure.lines > 0) {
        write_failed_.fetch_add(failure.lines, std::memory_order_relaxed);
        write_error = failure.error;
      }
    }
    const std::uint64_t full = queue_full_.load(std::memory_order_relaxed);
    const std::uint64_t failed = write_failed_.load(std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if ((full != reported_full || failed != reported_failed) &&
        (now - last_report >= kReportInterval || !more)) {
      if (full != reported_full) {
        log_.log(LogLevel::kWarn, "access log queue full: {} lines dropped ({} in all)",
                 full - reported_full, full + failed);
      }
      if (failed != reported_failed) {
        log_.log(LogLevel::kWarn, "access log write failed ({}): {} lines dropped ({} in all)",
                 std::strerror(write_error), failed - reported_failed, full + failed);
      }
      reported_full = full;
      reported_failed = failed;
      last_report = now;
    }
    if (!more) return;
  }
}

}  // namespace cork
