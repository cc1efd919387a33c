// AccessLog: lines reach the file in order, a stalled disk makes workers drop lines (counted)
// instead of blocking, and stop() flushes what is queued. A write that fails (a full file
// system, /dev/full, a pipe whose reader left) counts its lines as dropped, reports them, and
// never leaves half a line in front of the next one.
#include "server/access_log.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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
  // Opens logger_ with the access log at `access_log` and the error log in dir_.
  void open_logs(const std::string& access_log) {
    config_.access_log = access_log;
    config_.error_log = dir_ + "/error.log";
    std::string error;
    ASSERT_TRUE(logger_.open(config_, error)) << error;
  }
  std::string dir_;
  Config config_;
  Logger logger_;
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

std::string read_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string text = read_all(fd);
  ::close(fd);
  return text;
}

// Waits up to 5 s for `done`.
template <class Predicate>
bool eventually(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// `count` lines of `size` bytes each (the newline included), numbered.
std::vector<std::string> numbered_lines(int count, std::size_t size) {
  std::vector<std::string> lines;
  for (int i = 0; i < count; ++i) {
    std::string line = "line " + std::to_string(10000 + i) + " ";
    line.resize(size - 1, 'x');
    lines.push_back(line + "\n");
  }
  return lines;
}

// For the life of the object: RLIMIT_FSIZE (soft) of this process at `bytes`, and SIGXFSZ
// ignored as cork ignores it, so that writes beyond the limit fail with EFBIG as on a full file
// system. Restores both. Neither copyable nor movable.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGXFSZ, &ignore, &saved_action_);
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    const rlimit limit{bytes, saved_.rlim_max};
    ok_ = ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::sigaction(SIGXFSZ, &saved_action_, nullptr);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  struct sigaction saved_action_ {};
  bool ok_ = false;
};

// SIGPIPE ignored (as cork ignores it) for the life of the object: a write to a pipe without a
// reader fails with EPIPE instead of killing the test.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &saved_);
  }
  ~IgnoreSigpipe() { ::sigaction(SIGPIPE, &saved_, nullptr); }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  struct sigaction saved_ {};
};

TEST_F(AccessLogTest, WritesEveryLineInOrderAndFlushesOnStop) {
  ASSERT_NO_FATAL_FAILURE(open_logs(dir_ + "/access.log"));
  {
    AccessLog log(logger_, 1000);
    EXPECT_TRUE(log.enabled());
    for (int i = 0; i < 500; ++i)
      log.submit("line " + std::to_string(i) + "\n");
    log.stop();
    EXPECT_EQ(log.dropped(), 0u);
  }
  const int fd = ::open(config_.access_log.c_str(), O_RDONLY);
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

// A full file system (here RLIMIT_FSIZE: a write past 10,000 bytes is cut short, the next one
// fails with EFBIG): the file keeps only whole lines (the line cut short is truncated away),
// every other line is counted as dropped, and the error log says why.
TEST_F(AccessLogTest, AFullFileKeepsWholeLinesAndCountsTheRestAsDropped) {
  constexpr int kLines = 400;
  constexpr std::size_t kLineSize = 43;  // 10,000 is no multiple of it: some line is cut
  ASSERT_NO_FATAL_FAILURE(open_logs(dir_ + "/access.log"));
  const std::vector<std::string> lines = numbered_lines(kLines, kLineSize);
  std::uint64_t dropped = 0;
  {
    FileSizeLimit limit(10000);
    ASSERT_TRUE(limit.ok());
    AccessLog log(logger_, 1000);
    for (const std::string& line : lines)
      log.submit(line);
    log.stop();
    dropped = log.dropped();
  }
  const std::string text = read_path(config_.access_log);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "the file ends with half a line";
  ASSERT_EQ(text.size() % kLineSize, 0u) << "not whole lines: " << text.size() << " bytes";
  const std::size_t kept = text.size() / kLineSize;
  EXPECT_EQ(kept, 10000 / kLineSize);
  std::string expected;
  for (std::size_t i = 0; i < kept; ++i)
    expected += lines[i];
  EXPECT_EQ(text, expected);
  EXPECT_EQ(kept + dropped, static_cast<std::size_t>(kLines)) << "lines lost without a count";
  const std::string errors = read_path(config_.error_log);
  EXPECT_NE(errors.find("File too large"), std::string::npos) << errors;
  EXPECT_NE(errors.find("lines dropped"), std::string::npos) << errors;
}

// /dev/full: no line can be written; every one is counted and reported.
TEST_F(AccessLogTest, EveryLineWrittenToDevFullIsCountedAsDropped) {
  ASSERT_NO_FATAL_FAILURE(open_logs("/dev/full"));
  {
    AccessLog log(logger_, 1000);
    for (const std::string& line : numbered_lines(100, 40))
      log.submit(line);
    log.stop();
    EXPECT_EQ(log.dropped(), 100u);
  }
  const std::string errors = read_path(config_.error_log);
  EXPECT_NE(errors.find("No space left on device"), std::string::npos) << errors;
  EXPECT_NE(errors.find("(100 in all)"), std::string::npos) << errors;
}

// Drops are reported at most once a second, but within about a second even when no further
// line comes to wake the log thread.
TEST_F(AccessLogTest, DropsAreReportedWithinASecondWithoutAnotherLine) {
  ASSERT_NO_FATAL_FAILURE(open_logs("/dev/full"));
  AccessLog log(logger_, 1000);
  for (const std::string& line : numbered_lines(10, 40))
    log.submit(line);
  ASSERT_TRUE(eventually([&] {
    return read_path(config_.error_log).find("(10 in all)") != std::string::npos;
  })) << read_path(config_.error_log);
  // Within the second after that report: counted now, reported when the second is over.
  for (const std::string& line : numbered_lines(10, 40))
    log.submit(line);
  EXPECT_TRUE(eventually([&] {
    return read_path(config_.error_log).find("(20 in all)") != std::string::npos;
  })) << read_path(config_.error_log);
  log.stop();
}

// A pipe cannot be truncated: when a line was cut short there (its reader left in the middle of
// the write), the fragment is ended with a newline before the next line, so that the next line
// starts on a line of its own. The cut line, and those that found no reader, count as dropped.
TEST_F(AccessLogTest, ALineCutShortOnAPipeIsEndedBeforeTheNextLine) {
  IgnoreSigpipe ignore_sigpipe;
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  const int pipe_size = ::fcntl(reader, F_SETPIPE_SZ, 4096);
  ASSERT_GT(pipe_size, 0);
  ASSERT_NO_FATAL_FAILURE(open_logs(fifo));
  AccessLog log(logger_, 1000);
  // Destroyed before `log`: a failing assertion must not leave the writer waiting on the pipe.
  struct CloseReader {
    int& fd;
    ~CloseReader() {
      if (fd >= 0) ::close(fd);
    }
  } close_reader{reader};

  log.submit("first\n");
  std::string text;
  ASSERT_TRUE(eventually([&] {
    text += read_all(reader);
    return text == "first\n";
  }));
  // A line longer than the (empty) pipe: the write fills the pipe and waits for room. Then the
  // reader leaves: write(2) returns what it wrote, and the next one fails with EPIPE. What is
  // in the pipe stays there for the FIFO's next reader.
  const std::string long_line = std::string(static_cast<std::size_t>(pipe_size) * 2, 'y') + "\n";
  log.submit(long_line);
  ASSERT_TRUE(eventually([&] {
    int queued = 0;
    return ::ioctl(reader, FIONREAD, &queued) == 0 && queued == pipe_size;
  }));
  log.submit("no reader\n");
  ::close(reader);
  reader = -1;
  ASSERT_TRUE(eventually([&] { return log.dropped() == 2; })) << "dropped " << log.dropped();

  reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  log.submit("after\n");
  ASSERT_TRUE(eventually([&] {
    text += read_all(reader);
    return text.find("after\n") != std::string::npos;
  }));
  log.stop();
  EXPECT_EQ(text,
            "first\n" + long_line.substr(0, static_cast<std::size_t>(pipe_size)) + "\nafter\n");
  EXPECT_EQ(log.dropped(), 2u);
}

}  // namespace
}  // namespace cork
