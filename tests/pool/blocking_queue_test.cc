// BlockingQueue: FIFO order, capacity, blocking pop, close() waking every waiter.
#include "pool/blocking_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace cork {
namespace {

using namespace std::chrono_literals;

TEST(BlockingQueue, KeepsFifoOrder) {
  BlockingQueue<int> q(8);
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(q.try_push(i));
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(q.pop(), i);
  EXPECT_EQ(q.size(), 0u);
}

TEST(BlockingQueue, TryPushFailsWhenFull) {
  BlockingQueue<int> q(2);
  EXPECT_TRUE(q.try_push(1));
  EXPECT_TRUE(q.try_push(2));
  int third = 3;
  EXPECT_FALSE(q.try_push(third));
  EXPECT_EQ(third, 3);  // left untouched on failure
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.capacity(), 2u);
  EXPECT_EQ(q.pop(), 1);
  EXPECT_TRUE(q.try_push(3));
}

TEST(BlockingQueue, PopBlocksUntilPush) {
  BlockingQueue<int> q(4);
  std::atomic<bool> popped{false};
  std::thread consumer([&] {
    EXPECT_EQ(q.pop(), 42);
    popped = true;
  });
  std::this_thread::sleep_for(50ms);  // give the consumer time to block; it must not return
  EXPECT_FALSE(popped.load());
  EXPECT_TRUE(q.try_push(42));
  consumer.join();
  EXPECT_TRUE(popped.load());
}

TEST(BlockingQueue, PushBlocksWhileFull) {
  BlockingQueue<int> q(1);
  ASSERT_TRUE(q.push(1));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    EXPECT_TRUE(q.push(2));
    pushed = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(pushed.load());
  EXPECT_EQ(q.pop(), 1);
  producer.join();
  EXPECT_TRUE(pushed.load());
  EXPECT_EQ(q.pop(), 2);
}

TEST(BlockingQueue, CloseWakesAllWaitingConsumers) {
  BlockingQueue<int> q(4);
  std::atomic<int> woken{0};
  std::vector<std::thread> consumers;
  for (int i = 0; i < 4; ++i) {
    consumers.emplace_back([&] {
      EXPECT_FALSE(q.pop().has_value());
      ++woken;
    });
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(woken.load(), 0);
  q.close();
  for (auto& t : consumers)
    t.join();
  EXPECT_EQ(woken.load(), 4);
}

TEST(BlockingQueue, CloseWakesBlockedProducerAndRefusesNewItems) {
  BlockingQueue<int> q(1);
  ASSERT_TRUE(q.try_push(1));
  std::thread producer([&] { EXPECT_FALSE(q.push(2)); });
  std::this_thread::sleep_for(50ms);
  q.close();
  producer.join();
  EXPECT_FALSE(q.try_push(3));
  EXPECT_TRUE(q.closed());
  // Items queued before close() are still delivered, then nullopt.
  EXPECT_EQ(q.pop(), 1);
  EXPECT_FALSE(q.pop().has_value());
}

TEST(BlockingQueue, ManyProducersManyConsumersLoseNothing) {
  BlockingQueue<int> q(16);
  constexpr int kPerProducer = 10000;
  std::atomic<long> sum{0};
  std::vector<std::thread> consumers;
  for (int i = 0; i < 3; ++i) {
    consumers.emplace_back([&] {
      while (auto v = q.pop())
        sum += *v;
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < 3; ++p) {
    producers.emplace_back([&] {
      for (int i = 1; i <= kPerProducer; ++i)
        ASSERT_TRUE(q.push(i));
    });
  }
  for (auto& t : producers)
    t.join();
  q.close();
  for (auto& t : consumers)
    t.join();
  EXPECT_EQ(sum.load(), 3L * kPerProducer * (kPerProducer + 1) / 2);
}

}  // namespace
}  // namespace cork

namespace cork {
namespace {

TEST(BlockingQueuePopAll, TakesEverythingQueuedInOrder) {
  BlockingQueue<int> queue(8);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(queue.try_push(i));
  std::deque<int> out;
  ASSERT_TRUE(queue.pop_all(out));
  EXPECT_EQ(out, (std::deque<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(queue.size(), 0u);
  // Room again for a full batch.
  for (int i = 0; i < 8; ++i)
    EXPECT_TRUE(queue.try_push(i));
}

TEST(BlockingQueuePopAll, BlocksUntilAnItemOrClose) {
  BlockingQueue<int> queue(2);
  std::deque<int> out;
  std::thread consumer([&] {
    EXPECT_TRUE(queue.pop_all(out));
    std::deque<int> rest;
    EXPECT_FALSE(queue.pop_all(rest));  // closed and empty
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(queue.try_push(7));
  while (queue.size() != 0)
    std::this_thread::yield();
  queue.close();
  consumer.join();
  EXPECT_EQ(out, (std::deque<int>{7}));
}

// pop_all_for: what is queued at once; nothing but true when the time passes; false once closed
// and empty (after the last items).
TEST(BlockingQueuePopAll, ForTimesOutEmptyHandedAndEndsAtClose) {
  BlockingQueue<int> queue(4);
  std::deque<int> out;
  EXPECT_TRUE(queue.pop_all_for(out, std::chrono::milliseconds(1)));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(queue.try_push(1));
  ASSERT_TRUE(queue.try_push(2));
  queue.close();
  EXPECT_TRUE(queue.pop_all_for(out, std::chrono::seconds(10)));
  EXPECT_EQ(out, (std::deque<int>{1, 2}));
  EXPECT_FALSE(queue.pop_all_for(out, std::chrono::seconds(10)));
}

}  // namespace
}  // namespace cork
