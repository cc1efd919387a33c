// AccessLog: the access log's own thread. Workers hand it whole lines through a bounded queue
// and never wait for the disk: when the queue is full the line is dropped and counted. Lines
// the disk refuses (a full file system, /dev/full, a vanished pipe reader) are counted the same
// way, and no half line is left behind (server/log_file.h). Both counts go to the error log, at
// most once a second but within about a second, and to the metrics. The thread writes what
// has accumulated in batches and flushes everything at shutdown.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "pool/blocking_queue.h"
#include "server/log.h"

namespace cork {

// Neither copyable nor movable (a thread holds `this`).
class AccessLog {
 public:
  AccessLog(Logger& log, std::size_t capacity);
  // Stops the thread after it has written every queued line.
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Whether lines are wanted at all (access_log != off): when not, callers format nothing.
  bool enabled() const { return log_.access_enabled(); }
  // Never blocks. Safe to call from any thread. `line` ends with '\n'.
  void submit(std::string line);
  // Writes what is queued and stops the thread; later submits are dropped. Idempotent.
  void stop();

  // Lines lost: the queue was full, or the write failed. Safe to call from any thread.
  std::uint64_t dropped() const {
    return queue_full_.load(std::memory_order_relaxed) +
           write_failed_.load(std::memory_order_relaxed);
  }

 private:
  void run();

  Logger& log_;
  BlockingQueue<std::string> queue_;
  std::atomic<std::uint64_t> queue_full_{0};
  std::atomic<std::uint64_t> write_failed_{0};  // written by the thread only
  std::thread thread_;
};

}  // namespace cork
