// Logger: a reload that cannot open every new log file switches none of them; coalesced
// warnings become one line a second with a count, and no count is lost at the end. With its
// writer thread running, a stalled error log costs dropped lines (counted, reported when it
// drains), never a wait, and stopping the thread writes everything queued.
#include "server/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "integration/temp_dir_support.h"
#include "server/config.h"
#include "server/server_test_support.h"

namespace cork {
namespace {

namespace fs = std::filesystem;
using integration::read_file;
using integration::TempDir;

// A config whose error log is dir/error.log and whose access log is `access_log`.
Config logs_in(const TempDir& dir, std::string access_log = "off") {
  Config config;
  config.error_log = (dir.path() / "error.log").string();
  config.access_log = std::move(access_log);
  return config;
}

// A valid new error log with an access log that cannot be opened: the reload is refused and
// the error log, the access log and the level all stay as they were (the error log used to
// move already). The new error log is not left behind either.
TEST(LoggerTest, ARefusedReconfigureSwitchesNoLog) {
  TempDir dir;
  const Config old_config = logs_in(dir, (dir.path() / "access.log").string());
  Logger log;
  std::string error;
  ASSERT_TRUE(log.open(old_config, error)) << error;

  Config fresh = old_config;
  fresh.error_log = (dir.path() / "new-error.log").string();
  fresh.access_log = (dir.path() / "missing" / "access.log").string();
  fresh.level = LogLevel::kDebug;
  EXPECT_FALSE(log.reconfigure(fresh, error));
  EXPECT_NE(error.find(fresh.access_log), std::string::npos) << error;

  log.write_error(LogLevel::kWarn, "after the refused reload");
  log.write_access("an access line\n");
  EXPECT_NE(read_file(old_config.error_log).find("after the refused reload"), std::string::npos);
  EXPECT_FALSE(fs::exists(fresh.error_log)) << "the refused reload left its new error log";
  EXPECT_EQ(read_file(old_config.access_log), "an access line\n");
  EXPECT_FALSE(log.enabled(LogLevel::kDebug)) << "the refused reload changed the level";
}

// The other way round: a new access log that opens and an error log that does not.
TEST(LoggerTest, ARefusedReconfigureKeepsTheAccessLog) {
  TempDir dir;
  const Config old_config = logs_in(dir, (dir.path() / "access.log").string());
  Logger log;
  std::string error;
  ASSERT_TRUE(log.open(old_config, error)) << error;

  Config fresh = old_config;
  fresh.error_log = (dir.path() / "missing" / "error.log").string();
  fresh.access_log = (dir.path() / "new-access.log").string();
  EXPECT_FALSE(log.reconfigure(fresh, error));
  log.write_access("an access line\n");
  EXPECT_EQ(read_file(old_config.access_log), "an access line\n");
  EXPECT_FALSE(fs::exists(fresh.access_log)) << "the refused reload left its new access log";
}

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
  Config config = logs_in(dir);
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
  Config config = logs_in(dir);
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
  Config config = logs_in(dir);
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

// Everything readable from the non-blocking `fd` right now.
std::string read_available(int fd) {
  std::string out;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return out;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

// The error log is a pipe nobody reads: 2,000 lines of 1,000 bytes are far more than the pipe
// (64 KiB) and the queue (16 lines) hold. write_error() must not wait for it (it used to,
// in write(2)); the lines that do not fit are counted, and once the pipe is read again the
// count is written there.
TEST(LoggerTest, AStalledErrorLogDropsLinesInsteadOfWaiting) {
  TempDir dir;
  const std::string fifo = (dir.path() / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  struct CloseReader {
    int fd;
    ~CloseReader() { ::close(fd); }
  } close_reader{reader};
  Config config;
  config.error_log = fifo;
  config.access_log = "off";
  const SystemClock clock;
  Logger log(clock, 16);
  std::string error;
  ASSERT_TRUE(log.open(config, error)) << error;
  log.start_writer();
  const std::string message(1000, 'x');
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 2000; ++i)
    log.write_error(LogLevel::kWarn, message);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2))
      << "write_error() waited for the error log";
  EXPECT_GT(log.error_dropped(), 0u);

  // Drops may have been reported while they were still happening; the last report has them all.
  const std::string report = "(" + std::to_string(log.error_dropped()) + " in all)";
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (text.find(report) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    text += read_available(reader);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_NE(text.find("error log queue full: "), std::string::npos);
  EXPECT_NE(text.find(report), std::string::npos)
      << "the drop count did not arrive: "
      << text.substr(text.size() > 300 ? text.size() - 300 : 0);
  log.stop_writer();
}

// stop_writer() writes every queued line before it returns, in order; later lines are written
// at once.
TEST(LoggerTest, StopWriterWritesEveryQueuedLine) {
  TempDir dir;
  Config config = logs_in(dir);
  Logger log;
  std::string error;
  ASSERT_TRUE(log.open(config, error)) << error;
  log.start_writer();
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i) {
    log.write_error(LogLevel::kInfo, "line " + std::to_string(i));
    expected.push_back("[info] line " + std::to_string(i));
  }
  log.stop_writer();
  EXPECT_EQ(untimed_lines(read_file(config.error_log)), expected);
  log.write_error(LogLevel::kInfo, "after");
  expected.push_back("[info] after");
  EXPECT_EQ(untimed_lines(read_file(config.error_log)), expected);
  EXPECT_EQ(log.error_dropped(), 0u);
}

// The writer thread writes a count when its second is over, without waiting for another line.
TEST(LoggerTest, TheWriterThreadWritesCoalescedCountsWithinASecondOrTwo) {
  TempDir dir;
  Config config = logs_in(dir);
  Logger log;
  std::string error;
  ASSERT_TRUE(log.open(config, error)) << error;
  log.start_writer();
  for (int i = 0; i < 5; ++i)
    log.log_coalesced(LogLevel::kWarn, "queue full ({}): answering 503", 64);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (read_file(config.error_log).find("(and 3 more in the last second)") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(untimed_lines(read_file(config.error_log)),
            (std::vector<std::string>{
                "[warn] queue full (64): answering 503",
                "[warn] queue full (64): answering 503 (and 3 more in the last second)"}));
  log.stop_writer();
}

}  // namespace
}  // namespace cork
