// Reactor: the one thread that owns the epoll instance, accepts connections, dispatches ready
// connections to the worker pool through the bounded blocking queue, runs the timers, reads
// signals, and is the only place that closes a connection (see connection.h for the protocol).
//
// epoll mode: level-triggered with EPOLLONESHOT. ONESHOT gives one owner per connection; level
// triggering means a re-arm (EPOLL_CTL_MOD) reports data that arrived while the worker was busy,
// so a worker may stop reading after a short read or yield mid-file without losing a wake-up.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pool/blocking_queue.h"
#include "pool/thread_pool.h"
#include "server/connection.h"
#include "server/server_context.h"
#include "server/timer_heap.h"
#include "server/unique_fd.h"

namespace cork {

struct ReactorOptions {
  std::size_t threads = 1;
  std::size_t queue_capacity = 4096;
  std::size_t max_connections = 10000;
  std::int64_t shutdown_grace_ms = 10'000;
  // SIGHUP: re-reads the configuration and publishes new Settings through the context (and
  // reconfigures the logger); false with `error` set when the new configuration is bad.
  std::function<bool(std::string& error)> reload;
};

// Neither copyable nor movable: worker threads hold `this`.
class Reactor {
 public:
  Reactor(ServerContext& context, UniqueFd listener, const ReactorOptions& options);
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;
  ~Reactor();

  // Creates the epoll set; false with `error` set on failure.
  bool init(std::string& error);
  // Runs until SIGINT/SIGTERM and the drain that follows; returns the process exit code.
  // Call from the thread that becomes the reactor thread.
  int run();

 private:
  // Worker side. Safe to call from worker threads (only for a handle the caller owns).
  void serve(ConnHandle handle);
  void retire(ConnHandle handle);  // hand a kClosing connection back to the reactor

  // Reactor thread only.
  void accept_all(std::int64_t now_ms);
  void dispatch(ConnHandle handle);
  void expire_timers(std::int64_t now_ms);
  void close_retired();
  void close(Connection& connection);
  void reject_with_503(int fd);
  void begin_shutdown(std::int64_t now_ms);
  void handle_signals(std::int64_t now_ms);
  Connection* find(ConnHandle handle) const;
  void watch_file_cache(const Settings* previous);
  std::int64_t next_check(std::int64_t deadline_ms, std::int64_t now_ms) const;
  int wait_timeout_ms(std::int64_t now_ms) const;

  ServerContext& context_;
  const ReactorOptions options_;
  UniqueFd listener_;
  UniqueFd epoll_;
  UniqueFd signal_fd_;
  UniqueFd wake_fd_;  // eventfd: workers wake the reactor to close retired connections
  std::shared_ptr<const Settings> settings_;  // the reactor's snapshot (timeouts)

  // Indexed by fd; slots written only by the reactor thread. A worker reads only the slot of a
  // connection it owns (kBusy), which the reactor never changes while it is kBusy. Fixed size,
  // so the vector itself never reallocates under a reader.
  std::vector<std::unique_ptr<Connection>> table_;
  std::size_t live_ = 0;
  std::uint32_t next_generation_ = 1;
  int highest_fd_ = -1;
  TimerHeap timers_;

  BlockingQueue<ConnHandle> queue_;
  std::unique_ptr<ThreadPool<ConnHandle>> pool_;

  std::mutex retired_mutex_;
  std::vector<ConnHandle> retired_;  // guarded by retired_mutex_

  bool stopping_ = false;
  std::int64_t stop_deadline_ms_ = 0;
  std::int64_t accept_paused_until_ms_ = 0;
  std::int64_t last_accept_error_log_ms_ = 0;
};

}  // namespace cork
