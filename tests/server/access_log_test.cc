// AccessLog: lines reach the file in order, a stalled disk makes workers drop lines (counted)
// instead of blocking, and stop() flushes what is queued.
#include "server/access_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "server/config.h"

namespace cork {
namespace {

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cork-alog-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
};

std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

TEST_F(AccessLogTest, WritesEveryLineInOrderAndFlushesOnStop) {
  Config config;
  config.access_log = dir_ + "/access.log";
  config.error_log = dir_ + "/error.log";
  Logger logger;
  std::string error;
  ASSERT_TRUE(logger.open(config, error)) << error;
  {
    AccessLog log(logger, 1000);
    EXPECT_TRUE(log.enabled());
    for (int i = 0; i < 500; ++i)
      log.submit("line " + std::to_string(i) + "\n");
    log.stop();
    EXPECT_EQ(log.dropped(), 0u);
  }
  const int fd = ::open(config.access_log.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  const std::string text = read_all(fd);
  ::close(fd);
  std::string expected;
  for (int i = 0; i < 500; ++i)
    expected += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(text, expected);
}

// The log thread blocks on a pipe nobody reads; workers must not block with it.
TEST_F(AccessLogTest, AStalledWriterMakesSubmitDropInsteadOfBlock) {
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  Config config;
  config.access_log = fifo;
  config.error_log = dir_ + "/error.log";
  std::optional<Logger> logger;
  logger.emplace();
  std::string error;
  ASSERT_TRUE(logger->open(config, error)) << error;

  const std::string line(1000, 'x');
  constexpr int kLines = 2000;  // ~2 MB: far beyond the pipe (64 KiB) plus the queue (16 lines)
  std::uint64_t dropped = 0;
  {
    AccessLog log(*logger, 16);
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < kLines; ++i)
      log.submit(line + "\n");
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_LT(took, std::chrono::seconds(2)) << "submit() blocked on a stalled log";
    EXPECT_GT(log.dropped(), 0u);
    dropped = log.dropped();
    // Unblock the writer: read everything until the log thread has stopped.
    std::thread drain([&] {
      ::fcntl(reader, F_SETFL, 0);  // blocking reads from here on
      read_all(reader);
    });
    log.stop();
    EXPECT_EQ(log.dropped(), dropped) << "stop() must not drop queued lines";
    logger.reset();  // closes the write end, so that the drain thread sees the end of the file
    drain.join();
  }
  ::close(reader);
  // The drop count was reported to the error log.
  const int fd = ::open(config.error_log.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  const std::string errors = read_all(fd);
  ::close(fd);
  EXPECT_NE(errors.find("lines dropped"), std::string::npos) << errors;
}

}  // namespace
}  // namespace cork
