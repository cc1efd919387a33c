// Logger: coalesced warnings become one line a second with a count, and no count is lost at
// the end.
#include "server/log.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "integration/temp_dir_support.h"
#include "server/config.h"
#include "server/server_test_support.h"

namespace cork {
namespace {

using integration::read_file;
using integration::TempDir;

// The lines of `text` without their time stamps ("2026-11-22T21:03:48Z ").
std::vector<std::string> untimed_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const std::size_t space = line.find(' ');
    lines.push_back(space == std::string::npos ? line : line.substr(space + 1));
    start = end + 1;
  }
  return lines;
}

// A per-request warning 100 times in a second: the first line, then one with the count. The
// arguments differ, the call site is the same.
TEST(LoggerTest, ACoalescedWarningIsOneLineASecondWithItsCount) {
  TempDir dir;
  testing::FakeClock clock;
  Config config;
  config.error_log = (dir.path() / "error.log").string();
  config.access_log = "off";
  Logger log(clock);
  std::string error;
  ASSERT_TRUE(log.open(config, error)) << error;
  for (int i = 0; i < 100; ++i)
    log.log_coalesced(LogLevel::kWarn, "{}: 503 for /f{}", "127.0.0.1:5000", i);
  EXPECT_EQ(untimed_lines(read_file(config.error_log)),
            std::vector<std::string>{"[warn] 127.0.0.1:5000: 503 for /f0"});
  clock.advance_ms(LogCoalescer::kWindowMs);
  log.flush_repeats(clock.monotonic_ms());
  EXPECT_EQ(untimed_lines(read_file(config.error_log)),
            (std::vector<std::string>{
                "[warn] 127.0.0.1:5000: 503 for /f0",
                "[warn] 127.0.0.1:5000: 503 for /f1 (and 98 more in the last second)"}));
}

// Below the level nothing is logged or counted.
TEST(LoggerTest, ACoalescedMessageBelowTheLevelIsNotLogged) {
  TempDir dir;
  testing::FakeClock clock;
  Config config;
  config.error_log = (dir.path() / "error.log").string();
  config.access_log = "off";
  config.level = LogLevel::kError;
  {
    Logger log(clock);
    std::string error;
    ASSERT_TRUE(log.open(config, error)) << error;
    for (int i = 0; i < 3; ++i)
      log.log_coalesced(LogLevel::kWarn, "queue full ({}): answering 503", 64);
  }
  EXPECT_EQ(read_file(config.error_log), "");
}

// The count of a second still running when the logger goes is written, not lost.
TEST(LoggerTest, APendingCountIsWrittenWhenTheLoggerGoes) {
  TempDir dir;
  testing::FakeClock clock;
  Config config;
  config.error_log = (dir.path() / "error.log").string();
  config.access_log = "off";
  {
    Logger log(clock);
    std::string error;
    ASSERT_TRUE(log.open(config, error)) << error;
    for (int i = 0; i < 3; ++i)
      log.log_coalesced(LogLevel::kWarn, "queue full ({}): answering 503", 64);
  }
  EXPECT_EQ(untimed_lines(read_file(config.error_log)),
            (std::vector<std::string>{
                "[warn] queue full (64): answering 503",
                "[warn] queue full (64): answering 503 (and 1 more in the last second)"}));
}

}  // namespace
}  // namespace cork
