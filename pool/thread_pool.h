// A fixed set of worker threads that pop items from a BlockingQueue and hand each to a handler.
// stop() closes the queue and joins every thread (no detached threads); the items already queued
// are still handled before the threads exit. Knows nothing of HTTP or sockets.
#pragma once

#include <cstddef>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "pool/blocking_queue.h"

namespace cork {

// Neither copyable nor movable: its threads hold `this`.
template <class T>
class ThreadPool {
 public:
  using Handler = std::function<void(T&)>;

  // Starts `threads` threads (at least one). The queue must outlive the pool.
  ThreadPool(std::size_t threads, BlockingQueue<T>& queue, Handler handler)
      : queue_(queue), handler_(std::move(handler)) {
    if (threads == 0) threads = 1;
    threads_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i)
      threads_.emplace_back([this] { run(); });
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() { stop(); }

  // Closes the queue, lets the threads drain it, joins them. Idempotent. Not safe to call from
  // one of the pool's own threads.
  void stop() {
    queue_.close();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  std::size_t size() const { return threads_.size(); }

 private:
  void run() {
    while (auto item = queue_.pop())
      handler_(*item);
  }

  BlockingQueue<T>& queue_;
  Handler handler_;
  std::vector<std::thread> threads_;
};

}  // namespace cork
