// LogCoalescer: the first occurrence of a message is logged, the repeats of the following
// second are counted and summed up in one line, one line a second while they go on, and the
// counts always add up to the occurrences (also from many threads at once).
#include "server/log_coalescer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace cork {
namespace {

using Verdict = LogCoalescer::Verdict;

// Two call sites.
const char kQueueFull[] = "queue full";
const char kAccept[] = "accept";

// The lines of `summaries`.
std::vector<std::string> lines_of(const std::vector<LogCoalescer::Summary>& summaries) {
  std::vector<std::string> lines;
  for (const LogCoalescer::Summary& s : summaries)
    lines.push_back(s.line);
  return lines;
}

// What a line stands for: itself, plus N when it ends with "(and N more in the last second)".
std::uint64_t occurrences(const std::string& line) {
  const std::size_t at = line.rfind(" (and ");
  return at == std::string::npos ? 1 : 1 + std::stoull(line.substr(at + 6));
}

TEST(LogCoalescerTest, FirstIsLoggedRepeatsAreCountedAndSummedUpAfterTheSecond) {
  LogCoalescer c;
  std::vector<LogCoalescer::Summary> ended;
  const std::int64_t t = 5000;
  ASSERT_EQ(c.occur(kQueueFull, t), Verdict::kLog);
  EXPECT_TRUE(c.first(kQueueFull, t, LogLevel::kWarn, "503 for /a", ended));
  EXPECT_TRUE(ended.empty());

  ASSERT_EQ(c.occur(kQueueFull, t + 10), Verdict::kCountedFirst);
  c.example(kQueueFull, "503 for /b");
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(c.occur(kQueueFull, t + 20), Verdict::kCounted);
  EXPECT_TRUE(c.flush(t + LogCoalescer::kWindowMs - 1).empty()) << "the second is not over";
  const std::vector<LogCoalescer::Summary> summaries = c.flush(t + LogCoalescer::kWindowMs);
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].line, "503 for /b (and 3 more in the last second)");
  EXPECT_EQ(summaries[0].level, LogLevel::kWarn);

  // The repeats went on: they are counted in a new second; a single one is logged as itself.
  ASSERT_EQ(c.occur(kQueueFull, t + 1500), Verdict::kCountedFirst);
  c.example(kQueueFull, "503 for /c");
  EXPECT_EQ(lines_of(c.flush(t + 2000)), std::vector<std::string>{"503 for /c"});
  // A second without repeats writes nothing, and the next occurrence is logged at once.
  EXPECT_TRUE(c.flush(t + 3000).empty());
  ASSERT_EQ(c.occur(kQueueFull, t + 3500), Verdict::kLog);
  EXPECT_TRUE(c.first(kQueueFull, t + 3500, LogLevel::kWarn, "503 for /d", ended));
  EXPECT_TRUE(ended.empty());
}

TEST(LogCoalescerTest, CallSitesAreCountedApart) {
  LogCoalescer c;
  std::vector<LogCoalescer::Summary> ended;
  ASSERT_EQ(c.occur(kQueueFull, 0), Verdict::kLog);
  EXPECT_TRUE(c.first(kQueueFull, 0, LogLevel::kWarn, "queue full", ended));
  ASSERT_EQ(c.occur(kAccept, 0), Verdict::kLog);
  EXPECT_TRUE(c.first(kAccept, 0, LogLevel::kError, "accept: EMFILE", ended));
  EXPECT_EQ(c.occur(kAccept, 1), Verdict::kCountedFirst);
  c.example(kAccept, "accept: EMFILE");
  EXPECT_EQ(c.occur(kAccept, 2), Verdict::kCounted);
  const std::vector<LogCoalescer::Summary> summaries = c.flush(1000);
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].line, "accept: EMFILE (and 1 more in the last second)");
  EXPECT_EQ(summaries[0].level, LogLevel::kError);
}

// Without a flush (before the error log's thread runs) the next occurrence after the second
// writes the summary, and is itself counted in the new second: one line a second either way.
TEST(LogCoalescerTest, WithoutAFlushTheNextOccurrenceWritesTheSummary) {
  LogCoalescer c;
  std::vector<LogCoalescer::Summary> ended;
  ASSERT_EQ(c.occur(kQueueFull, 0), Verdict::kLog);
  EXPECT_TRUE(c.first(kQueueFull, 0, LogLevel::kWarn, "m1", ended));
  ASSERT_EQ(c.occur(kQueueFull, 100), Verdict::kCountedFirst);
  c.example(kQueueFull, "m2");
  ASSERT_EQ(c.occur(kQueueFull, 200), Verdict::kCounted);

  ASSERT_EQ(c.occur(kQueueFull, 1500), Verdict::kLog);
  EXPECT_FALSE(c.first(kQueueFull, 1500, LogLevel::kWarn, "m4", ended)) << "logged twice";
  EXPECT_EQ(lines_of(ended), std::vector<std::string>{"m2 (and 1 more in the last second)"});
  // At shutdown everything counted is written, the open second included.
  EXPECT_EQ(lines_of(c.flush(LogCoalescer::kEverything)), std::vector<std::string>{"m4"});
  EXPECT_TRUE(c.flush(LogCoalescer::kEverything).empty());
}

// Many threads, one message, one instant: one of them logs it, the others are counted, and the
// lines add up to every occurrence.
TEST(LogCoalescerTest, ConcurrentOccurrencesAreAllCounted) {
  constexpr int kThreads = 4;
  constexpr int kEach = 20000;
  LogCoalescer c;
  std::atomic<std::uint64_t> logged{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<LogCoalescer::Summary>> ended(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < kEach; ++n) {
        const std::int64_t now = n < kEach / 2 ? 0 : 1000;  // two seconds
        switch (c.occur(kQueueFull, now)) {
          case Verdict::kLog:
            if (c.first(kQueueFull, now, LogLevel::kWarn, "m", ended[static_cast<std::size_t>(i)]))
              logged.fetch_add(1);
            break;
          case Verdict::kCountedFirst:
            c.example(kQueueFull, "m");
            break;
          case Verdict::kCounted:
            break;
        }
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  std::uint64_t total = logged.load();
  for (const auto& summaries : ended) {
    for (const LogCoalescer::Summary& s : summaries)
      total += occurrences(s.line);
  }
  for (const LogCoalescer::Summary& s : c.flush(LogCoalescer::kEverything))
    total += occurrences(s.line);
  EXPECT_EQ(total, static_cast<std::uint64_t>(kThreads) * kEach);
  EXPECT_EQ(logged.load(), 1u) << "the first occurrence, once";
}

}  // namespace
}  // namespace cork
