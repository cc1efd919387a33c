// server/clock: the wall-clock strings (pure formatters at a given time) and their
// once-per-second, per-thread caches.
#include "server/clock.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>
#include <thread>

#include "http/http_date.h"

namespace cork {
namespace {

constexpr std::time_t kRfcExample = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr std::time_t kClfExample = 971186136;  // 10 Oct 2000 13:55:36 UTC
constexpr std::time_t kAfter2038 = 2147483648;  // one second past 32-bit time_t

TEST(ClfTime, Format) {
  EXPECT_EQ(format_clf_time(0), "01/Jan/1970:00:00:00 +0000");
  EXPECT_EQ(format_clf_time(kClfExample), "10/Oct/2000:13:55:36 +0000");
  EXPECT_EQ(format_clf_time(kRfcExample), "06/Nov/1994:08:49:37 +0000");
  EXPECT_EQ(format_clf_time(kAfter2038), "19/Jan/2038:03:14:08 +0000");
}

// The access log's time was strftime("%d/%b/%Y:%H:%M:%S +0000") in the C locale; every month and
// day-of-month boundary of a leap year still reads the same.
TEST(ClfTime, SameAsStrftimeInTheCLocale) {
  for (std::time_t t = 946684800; t < 946684800 + 366 * 86400; t += 86400 / 2 + 1) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char expected[40];
    std::strftime(expected, sizeof expected, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    ASSERT_EQ(format_clf_time(t), expected) << t;
  }
}

TEST(LogTime, FormatIsIso8601Utc) {
  EXPECT_EQ(format_log_time(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_log_time(kClfExample), "2000-10-10T13:55:36Z");
  EXPECT_EQ(format_log_time(kAfter2038), "2038-01-19T03:14:08Z");
}

TEST(CachedTime, FollowsTheSecondItIsGiven) {
  EXPECT_EQ(http_date_at(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_date_at(kRfcExample + 1), "Sun, 06 Nov 1994 08:49:38 GMT");
  EXPECT_EQ(http_date_at(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");  // backwards too
  EXPECT_EQ(clf_time_at(kClfExample), "10/Oct/2000:13:55:36 +0000");
  EXPECT_EQ(clf_time_at(kClfExample + 60), "10/Oct/2000:13:56:36 +0000");
  EXPECT_EQ(http_date_at(0), format_http_date(0));
  EXPECT_EQ(clf_time_at(0), format_clf_time(0));
}

TEST(CachedTime, TheDateAndTheLogTimeHaveSeparateCaches) {
  const std::string_view date = http_date_at(kRfcExample);
  const std::string_view clf = clf_time_at(kClfExample);
  EXPECT_EQ(date, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(clf, "10/Oct/2000:13:55:36 +0000");
}

TEST(CachedTime, EachThreadHasItsOwnCache) {
  const std::string_view mine = clf_time_at(kClfExample);
  std::string theirs;
  std::thread([&] { theirs = std::string(clf_time_at(kRfcExample)); }).join();
  EXPECT_EQ(theirs, "06/Nov/1994:08:49:37 +0000");
  EXPECT_EQ(mine, "10/Oct/2000:13:55:36 +0000");  // untouched by the other thread
}

TEST(CachedTime, NowIsTheWallClock) {
  const std::time_t before = wall_seconds();
  const std::string clf(clf_time_now());
  const std::string date(http_date_now());
  const std::time_t after = wall_seconds();
  EXPECT_TRUE(clf == format_clf_time(before) || clf == format_clf_time(after)) << clf;
  EXPECT_TRUE(date == format_http_date(before) || date == format_http_date(after)) << date;
  // The coarse wall clock is the real one, give or take its few milliseconds.
  EXPECT_LE(std::abs(static_cast<long long>(before - std::time(nullptr))), 1);
}

}  // namespace
}  // namespace cork
