// Reactor: the one thread that owns the epoll instance, accepts connections, dispatches ready
// connections to the worker pool through the bounded blocking queue, runs the timers and reads
// signals. Connections are created and closed only through its ConnectionTable. What a signal
// other than SIGINT/SIGTERM means is the server's (server.cc), handed in as callbacks.
//
// epoll mode: level-triggered with EPOLLONESHOT. ONESHOT gives one owner per connection; level
// triggering means a re-arm (EPOLL_CTL_MOD) reports data that arrived while the worker was busy,
// so a worker may stop reading after a short read or yield mid-file without losing a wake-up.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pool/blocking_queue.h"
#include "pool/thread_pool.h"
#include "server/conn_handle.h"
#include "server/connection.h"
#include "server/connection_table.h"
#include "server/epoll.h"
#include "server/loop_thread.h"
#include "server/request_handler.h"
#include "server/server_context.h"
#include "server/timer_heap.h"
#include "server/unique_fd.h"

namespace cork {

struct ReactorOptions {
  std::size_t threads = 1;
  std::size_t max_connections = 10000;
  // The soft descriptor limit (the budget's, server/descriptor_budget.h): no descriptor number
  // reaches it, so the connection table has this many slots. 0 = read RLIMIT_NOFILE.
  std::size_t descriptor_limit = 0;
  std::int64_t shutdown_grace_ms = 10'000;
  // Run on the reactor thread when SIGHUP / SIGUSR1 arrive; empty = ignored.
  std::function<void()> on_reload;
  std::function<void()> on_reopen_logs;
  // Run on the reactor thread when accept() fails for want of descriptors (EMFILE, ENFILE):
  // gives back what can be given (the file cache); true when something was freed and accepting
  // may go on at once. Empty = accepts pause.
  std::function<bool()> on_descriptors_short;
};

// Neither copyable nor movable: worker threads hold `this`.
class Reactor {
 public:
  // `queue` (the hand-off to the workers) and `handler` must outlive the reactor.
  Reactor(ServerContext& context, UniqueFd listener, BlockingQueue<ConnHandle>& queue,
          const RequestHandler& handler, ReactorOptions options);
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;
  ~Reactor();

  // Creates the epoll set; false with `error` set on failure.
  bool init(std::string& error);
  // Runs until SIGINT/SIGTERM and the drain that follows; returns the process exit code.
  // Call from the thread that becomes the reactor thread.
  int run();

  // Reactor thread only (set-up, or the signal callbacks). Calls `on_ready` on the reactor
  // thread whenever `fd` (borrowed) is readable, before the connections of the same batch are
  // dispatched (a file-change notification must retire cache entries before a request that
  // arrived with it is served). False with `error` set when epoll refuses it.
  bool watch(int fd, std::function<void()> on_ready, std::string& error);
  void unwatch(int fd);

 private:
  // Worker side. Safe to call from worker threads (only for a handle the caller owns).
  void serve(ConnHandle handle);
  void retire(ConnHandle handle);  // hand a kClosing connection back to the reactor

  // Reactor thread only.
  void accept_all(std::int64_t now_ms);
  void dispatch(ConnHandle handle);
  void expire_timers(std::int64_t now_ms);
  void close_retired();
  void reject_with_503(int fd);
  void begin_shutdown(std::int64_t now_ms);
  void handle_signals(std::int64_t now_ms);
  void pause_accepting(std::int64_t now_ms, int error);
  void refresh_settings();
  std::int64_t next_check(std::int64_t deadline_ms, std::int64_t now_ms) const;
  int wait_timeout_ms(std::int64_t now_ms) const;

  struct Watch {
    int fd = -1;
    std::function<void()> on_ready;
  };

  ServerContext& context_;
  const ReactorOptions options_;
  const RequestHandler& handler_;
  LoopThread loop_;
  UniqueFd listener_;
  Epoll epoll_;
  UniqueFd signal_fd_;
  UniqueFd wake_fd_;  // eventfd: workers wake the reactor to close retired connections
  // From the current Settings (refresh_settings()); the reactor holds no snapshot, so that a
  // replaced one is never freed on this thread.
  std::int64_t shortest_timeout_ms_ = 1;
  std::uint64_t settings_generation_ = 0;
  std::vector<Watch> watches_;  // slot i has epoll tag kFirstWatchTag + i; fd -1 = free

  std::unique_ptr<ConnectionTable> table_;
  TimerHeap timers_;

  BlockingQueue<ConnHandle>& queue_;
  std::unique_ptr<ThreadPool<ConnHandle>> pool_;

  std::mutex retired_mutex_;
  std::vector<ConnHandle> retired_;  // guarded by retired_mutex_

  bool stopping_ = false;
  std::int64_t stop_deadline_ms_ = 0;
  std::int64_t accept_paused_until_ms_ = 0;
};

}  // namespace cork
