// ThreadPool: every queued task runs, on the pool's threads, and stop() joins them.
#include "pool/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

namespace cork {
namespace {

using Task = std::function<void()>;

TEST(ThreadPool, RunsEveryTask) {
  BlockingQueue<Task> queue(64);
  std::atomic<int> ran{0};
  {
    ThreadPool<Task> pool(4, queue, [](Task& t) { t(); });
    EXPECT_EQ(pool.size(), 4u);
    for (int i = 0; i < 1000; ++i)
      ASSERT_TRUE(queue.push([&] { ++ran; }));
    pool.stop();
  }
  EXPECT_EQ(ran.load(), 1000);
}

TEST(ThreadPool, TasksRunOnPoolThreadsInParallel) {
  BlockingQueue<Task> queue(64);
  std::mutex m;
  std::set<std::thread::id> ids;
  std::atomic<int> arrived{0};
  ThreadPool<Task> pool(3, queue, [](Task& t) { t(); });
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(queue.push([&] {
      {
        std::lock_guard lock(m);
        ids.insert(std::this_thread::get_id());
      }
      ++arrived;
      // Each task waits for the others: only possible if three threads run them at once.
      while (arrived.load() < 3)
        std::this_thread::yield();
    }));
  }
  pool.stop();
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);
}

TEST(ThreadPool, StopJoinsAndIsIdempotent) {
  BlockingQueue<Task> queue(4);
  std::atomic<bool> finished{false};
  ThreadPool<Task> pool(2, queue, [](Task& t) { t(); });
  ASSERT_TRUE(queue.push([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    finished = true;
  }));
  pool.stop();  // must wait for the running task
  EXPECT_TRUE(finished.load());
  pool.stop();
  EXPECT_TRUE(queue.closed());
}

TEST(ThreadPool, ZeroThreadsMeansOne) {
  BlockingQueue<Task> queue(4);
  std::atomic<int> ran{0};
  ThreadPool<Task> pool(0, queue, [](Task& t) { t(); });
  EXPECT_EQ(pool.size(), 1u);
  ASSERT_TRUE(queue.push([&] { ++ran; }));
  pool.stop();
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace cork
