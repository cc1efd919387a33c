// AccessLog: one writer thread, batches of lines, drops counted instead of blocking workers.
#include "server/access_log.h"

#include <chrono>
#include <deque>

namespace cork {

AccessLog::AccessLog(Logger& log, std::size_t capacity)
    : log_(log), queue_(capacity), thread_([this] { run(); }) {}

AccessLog::~AccessLog() {
  stop();
}

void AccessLog::submit(std::string line) {
  if (!queue_.try_push(line)) dropped_.fetch_add(1, std::memory_order_relaxed);
}

void AccessLog::stop() {
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

void AccessLog::run() {
  std::deque<std::string> batch;
  std::string out;
  std::uint64_t reported = 0;
  auto last_report = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  for (;;) {
    const bool more = queue_.pop_all(batch);
    if (!batch.empty()) {
      out.clear();
      for (const std::string& line : batch)
        out.append(line);
      batch.clear();
      log_.write_access(out);  // one write(2) for the whole batch
    }
    const std::uint64_t dropped = dropped_.load(std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if (dropped != reported && (now - last_report >= std::chrono::seconds(1) || !more)) {
      log_.log(LogLevel::kWarn, "access log queue full: {} lines dropped ({} in all)",
               dropped - reported, dropped);
      reported = dropped;
      last_report = now;
    }
    if (!more) return;
  }
}

}  // namespace cork
