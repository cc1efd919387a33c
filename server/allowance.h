// Allowance: a limit and a live count of what is held against it (descriptors, bytes). Holders
// add what they take and remove it when they let go; whoever admits new holders asks over().
// Neither copyable nor movable: holders share it through shared_ptr (the file caches of
// successive configurations and the cached files they hand out). Safe from any thread; the
// count is relaxed: a limit enforced between concurrent admissions can be passed by what those
// admissions take at once, never more.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace cork {

class Allowance {
 public:
  explicit Allowance(std::size_t limit) : limit_(limit) {}
  Allowance(const Allowance&) = delete;
  Allowance& operator=(const Allowance&) = delete;

  std::size_t limit() const { return limit_; }
  std::size_t held() const {
    const std::int64_t n = held_.load(std::memory_order_relaxed);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  // Whether taking `more` would pass the limit.
  bool would_exceed(std::size_t more) const { return held() + more > limit_; }
  bool over() const { return held() > limit_; }
  void take(std::size_t n) {
    held_.fetch_add(static_cast<std::int64_t>(n), std::memory_order_relaxed);
  }
  void give_back(std::size_t n) {
    held_.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_relaxed);
  }

 private:
  const std::size_t limit_;
  std::atomic<std::int64_t> held_{0};
};

}  // namespace cork
