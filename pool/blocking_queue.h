// A bounded multi-producer/multi-consumer FIFO guarded by one mutex and two condition variables.
// The reactor uses try_push() (it must never block); workers block in pop(). close() wakes every
// waiter: producers fail from then on, consumers drain what is left and then get std::nullopt.
// Knows nothing of HTTP or sockets.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace cork {

// Neither copyable nor movable: threads hold references to it.
template <class T>
class BlockingQueue {
 public:
  explicit BlockingQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  BlockingQueue(const BlockingQueue&) = delete;
  BlockingQueue& operator=(const BlockingQueue&) = delete;

  // Never blocks. False when the queue is full or closed (the item is left untouched).
  // Safe to call from any thread.
  bool try_push(T& item) {
    {
      std::lock_guard lock(mutex_);
      if (closed_ || items_.size() >= capacity_) return false;
      items_.push_back(std::move(item));
    }
    not_empty_.notify_one();
    return true;
  }
  bool try_push(T&& item) { return try_push(item); }

  // Blocks while the queue is full. False when the queue is (or becomes) closed.
  // Safe to call from any thread.
  bool push(T item) {
    {
      std::unique_lock lock(mutex_);
      not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
      if (closed_) return false;
      items_.push_back(std::move(item));
    }
    not_empty_.notify_one();
    return true;
  }

  // Blocks until an item is available. std::nullopt once the queue is closed and empty.
  // Safe to call from any thread.
  std::optional<T> pop() {
    std::optional<T> item;
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
      if (items_.empty()) return std::nullopt;
      item.emplace(std::move(items_.front()));
      items_.pop_front();
    }
    not_full_.notify_one();
    return item;
  }

  // Blocks until an item is available, then moves every queued item to the end of `out`
  // (batching for a single consumer). False once the queue is closed and empty.
  // Safe to call from any thread.
  bool pop_all(std::deque<T>& out) {
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
      if (items_.empty()) return false;
      for (T& item : items_)
        out.push_back(std::move(item));
      items_.clear();
    }
    not_full_.notify_all();
    return true;
  }

  // Like pop_all(), but waits at most `timeout` for an item: true with nothing moved when the
  // time passed first (a consumer with something to do now and then). False once the queue is
  // closed and empty. Safe to call from any thread.
  template <class Rep, class Period>
  bool pop_all_for(std::deque<T>& out, std::chrono::duration<Rep, Period> timeout) {
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
      if (items_.empty()) return !closed_;
      for (T& item : items_)
        out.push_back(std::move(item));
      items_.clear();
    }
    not_full_.notify_all();
    return true;
  }

  // Wakes every waiter. Idempotent. Safe to call from any thread.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;  // guarded by mutex_
  bool closed_ = false;  // guarded by mutex_
};

}  // namespace cork
