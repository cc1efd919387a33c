// TimerHeap: earliest deadline first, lazy re-scheduling.
#include "server/timer_heap.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace cork {
namespace {

TEST(TimerHeap, PopsInDeadlineOrder) {
  TimerHeap heap;
  std::mt19937 rng(7);
  std::vector<std::int64_t> deadlines;
  for (int i = 0; i < 1000; ++i) {
    const auto d = static_cast<std::int64_t>(rng() % 100000);
    deadlines.push_back(d);
    heap.push(d, static_cast<std::uint64_t>(i));
  }
  EXPECT_EQ(heap.size(), 1000u);
  std::int64_t last = -1;
  while (!heap.empty()) {
    const std::int64_t next = heap.next_deadline();
    const auto e = heap.pop();
    EXPECT_EQ(e.deadline_ms, next);
    EXPECT_GE(e.deadline_ms, last);
    EXPECT_EQ(deadlines[e.handle], e.deadline_ms);
    last = e.deadline_ms;
  }
}

TEST(TimerHeap, ReschedulingMovesAnEntryBack) {
  TimerHeap heap;
  heap.push(10, 1);
  heap.push(20, 2);
  auto e = heap.pop();
  EXPECT_EQ(e.handle, 1u);
  heap.push(30, e.handle);  // the connection's deadline moved: push it again later
  EXPECT_EQ(heap.pop().handle, 2u);
  EXPECT_EQ(heap.pop().handle, 1u);
  EXPECT_TRUE(heap.empty());
}

}  // namespace
}  // namespace cork
