// TimerHeap: the reactor's deadlines, a binary min-heap of (deadline, connection handle).
//
// Each live connection has exactly one entry, pushed at accept. Workers never touch the heap:
// they only store a new deadline in the Connection. When an entry comes due the reactor looks
// at the connection's current deadline and either closes it or pushes the entry again with the
// later deadline (lazy re-scheduling), but never later than the shortest configured timeout from
// now, since a worker may have moved the deadline earlier meanwhile (Reactor::next_check). A
// keep-alive connection thus costs O(log n) once per timeout period, not once per request.
// Reactor thread only; a copyable value.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

namespace cork {

class TimerHeap {
 public:
  struct Entry {
    std::int64_t deadline_ms;
    std::uint64_t handle;
    friend bool operator>(const Entry& a, const Entry& b) { return a.deadline_ms > b.deadline_ms; }
  };

  void push(std::int64_t deadline_ms, std::uint64_t handle) {
    entries_.push_back({deadline_ms, handle});
    std::push_heap(entries_.begin(), entries_.end(), std::greater<>());
  }
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  // The earliest deadline; only when !empty().
  std::int64_t next_deadline() const { return entries_.front().deadline_ms; }
  // Removes and returns the earliest entry; only when !empty().
  Entry pop() {
    std::pop_heap(entries_.begin(), entries_.end(), std::greater<>());
    Entry e = entries_.back();
    entries_.pop_back();
    return e;
  }

 private:
  std::vector<Entry> entries_;
};

}  // namespace cork
