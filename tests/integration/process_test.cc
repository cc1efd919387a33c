// Integration tests: cork as a process. Command line, config validation and its one-line
// errors, start-up failures, flags overriding the file, and signals.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"
#include "integration/temp_dir_support.h"

namespace cork::integration {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string describe(const RunResult& run) {
  return (run.timed_out ? std::string("still running after the timeout (killed)")
                        : describe_wait_status(run.wait_status)) +
         "; stdout: \"" + printable(run.out) + "\"; stderr: \"" + printable(run.err) + "\"";
}

bool exited_zero(int wait_status) {
  return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

// Neither copyable nor movable: owns a socket listening on 127.0.0.1, so that its port is busy.
class BusyPort {
 public:
  BusyPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
  }
  ~BusyPort() { ::close(fd_); }
  BusyPort(const BusyPort&) = delete;
  BusyPort& operator=(const BusyPort&) = delete;

  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(CommandLineTest, VersionExitsZero) {
  RunResult run = run_cork({"--version"});
  EXPECT_TRUE(run.exited_with(0)) << describe(run);
  EXPECT_TRUE(std::regex_search(run.out + run.err, std::regex("[0-9]+\\.[0-9]+\\.[0-9]+")))
      << "no version number: " << describe(run);
}

TEST(CommandLineTest, HelpExitsZeroAndNamesTheOptions) {
  RunResult run = run_cork({"--help"});
  EXPECT_TRUE(run.exited_with(0)) << describe(run);
  std::string text = run.out + run.err;
  for (const char* option : {"-c", "-p", "-r", "--threads", "--check", "--version"}) {
    EXPECT_NE(text.find(option), std::string::npos) << option << " missing from: " << text;
  }
}

TEST(ConfigTest, CheckAcceptsAFullValidConfig) {
  TempDir dir;
  dir.make_dir("www");
  std::string config =
      "; every key, with a valid value\n"
      "[server]\nhost = 127.0.0.1\nport = 0\nroot = " +
      (dir.path() / "www").string() +
      "\nthreads = 2\nqueue_capacity = 64\nmax_connections = 100\nbacklog = 16\n"
      "[http]\nindex = index.html\nkeepalive_timeout = 5\nheader_timeout = 3\n"
      "max_request_line = 4K\nmax_header_bytes = 8192\nmax_headers = 50\n"
      "max_discard_body = 1M\n"
      "[log]\nlevel = debug\naccess_log = off\nerror_log = -\n";
  auto path = dir.write_file("cork.ini", config);
  RunResult run = run_cork({"-c", path.string(), "--check"});
  EXPECT_TRUE(run.exited_with(0)) << describe(run);
}

// --check sets the descriptor limit first and prints the budget the server would run with.
TEST(ProcessTest, CheckPrintsTheDescriptorBudget) {
  TempDir dir;
  dir.write_file("www/index.html", "hi\n");
  const auto path = dir.write_file("cork.ini", "[server]\nroot = " + (dir.path() / "www").string() +
                                                   "\nthreads = 1\nmax_connections = 100\n"
                                                   "[http]\nfile_cache_entries = 10\n");
  RunResult run = run_cork({"-c", path.string(), "--check"});
  EXPECT_TRUE(run.exited_with(0)) << describe(run);
  EXPECT_NE(run.out.find("configuration OK; descriptors 176 (hard limit "), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("): 100 connections, 40 file cache, 36 server"), std::string::npos)
      << run.out;
}

// A log path that cannot be opened fails --check as it fails the start: one line on stderr and
// a non-zero exit (--check used to say "configuration OK", and then the start exited 1). The
// check leaves no log file behind.
class UnopenableLogTest : public ::testing::TestWithParam<const char*> {};

TEST_P(UnopenableLogTest, CheckFailsWithOneLine) {
  TempDir dir;
  dir.make_dir("www");
  const std::string key = GetParam();
  const std::string other = key == "access_log" ? "error_log" : "access_log";
  const std::string bad = (dir.path() / "no-such-dir" / "cork.log").string();
  const auto fine = dir.path() / "fine.log";
  auto path = dir.write_file("cork.ini", "[server]\nroot = " + (dir.path() / "www").string() +
                                             "\n[log]\n" + key + " = " + bad + "\n" + other +
                                             " = " + fine.string() + "\n");
  RunResult run = run_cork({"-c", path.string(), "--check"});
  EXPECT_TRUE(run.exited_nonzero()) << describe(run);
  EXPECT_EQ(run.out.find("configuration OK"), std::string::npos) << describe(run);
  std::vector<std::string> lines = split_lines(run.err);
  ASSERT_EQ(lines.size(), 1u) << "stderr must be one line: " << describe(run);
  EXPECT_NE(lines[0].find("cannot open log file " + bad), std::string::npos) << lines[0];
  EXPECT_FALSE(std::filesystem::exists(fine)) << "--check created " << fine;
}

INSTANTIATE_TEST_SUITE_P(Keys, UnopenableLogTest, ::testing::Values("access_log", "error_log"));

// A config whose line 3 is wrong.
struct BadConfig {
  const char* name;
  const char* text;
};

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {
 protected:
  // Exactly one line on stderr, starting with "<path>:3:", and a non-zero exit.
  void expect_rejected(const std::vector<std::string>& extra_args) {
    TempDir dir;
    auto path = dir.write_file("cork.ini", GetParam().text);
    std::vector<std::string> args = {"-c", path.string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    RunResult run = run_cork(args);
    EXPECT_TRUE(run.exited_nonzero()) << describe(run);
    std::vector<std::string> lines = split_lines(run.err);
    ASSERT_EQ(lines.size(), 1u) << "stderr must be one line: " << describe(run);
    EXPECT_EQ(lines[0].rfind(path.string() + ":3:", 0), 0u)
        << "\"" << lines[0] << "\" does not start with \"" << path.string() << ":3:\"";
    EXPECT_GT(lines[0].size(), path.string().size() + 3) << "no message after the location";
  }
};

TEST_P(BadConfigTest, CheckReportsFileAndLine) {
  expect_rejected({"--check"});
}

TEST_P(BadConfigTest, StartReportsFileAndLine) {
  expect_rejected({});
}

const BadConfig kBadConfigs[] = {
    {"UnknownKey", "[server]\nhost = 127.0.0.1\ncolour = blue\nport = 0\n"},
    {"UnknownKeyInHttp", "[http]\nindex = index.html\ngzip = on\n"},
    {"PortOutOfRange", "[server]\nhost = 127.0.0.1\nport = 70000\n"},
    {"PortNotANumber", "[server]\nhost = 127.0.0.1\nport = http\n"},
    {"TimeoutNotANumber", "[http]\nindex = index.html\nheader_timeout = soon\n"},
    {"SizeWithAnUnknownUnit", "[http]\nindex = index.html\nmax_discard_body = 64KB\n"},
    {"UnknownLogLevel", "[log]\naccess_log = off\nlevel = loud\n"},
};

INSTANTIATE_TEST_SUITE_P(Values, BadConfigTest, ::testing::ValuesIn(kBadConfigs),
                         [](const ::testing::TestParamInfo<BadConfig>& param) {
                           return std::string(param.param.name);
                         });

// Start-up failures: one line on stderr, non-zero exit.
void expect_startup_failure(const std::string& config_text, const std::string& must_mention) {
  TempDir dir;
  auto path = dir.write_file("cork.ini", config_text);
  RunResult run = run_cork({"-c", path.string()});
  EXPECT_TRUE(run.exited_nonzero()) << describe(run);
  std::vector<std::string> lines = split_lines(run.err);
  ASSERT_EQ(lines.size(), 1u) << "stderr must be one line: " << describe(run);
  EXPECT_NE(lines[0].find(must_mention), std::string::npos)
      << "\"" << lines[0] << "\" does not mention " << must_mention;
}

TEST(StartupTest, MissingRootFailsWithOneLine) {
  TempDir dir;
  std::string root = (dir.path() / "no-such-root").string();
  expect_startup_failure(
      "[server]\nhost = 127.0.0.1\nport = 0\nroot = " + root + "\n[log]\naccess_log = off\n", root);
}

TEST(StartupTest, RootThatIsAFileFailsWithOneLine) {
  TempDir dir;
  std::string root = dir.write_file("plain-file", "not a directory").string();
  expect_startup_failure(
      "[server]\nhost = 127.0.0.1\nport = 0\nroot = " + root + "\n[log]\naccess_log = off\n", root);
}

TEST(StartupTest, PortInUseFailsWithOneLine) {
  TempDir dir;
  dir.make_dir("www");
  BusyPort busy;
  expect_startup_failure("[server]\nhost = 127.0.0.1\nport = " + std::to_string(busy.port()) +
                             "\nroot = " + (dir.path() / "www").string() +
                             "\n[log]\naccess_log = off\n",
                         std::to_string(busy.port()));
}

TEST(StartupTest, FlagsOverrideTheFile) {
  CorkProcess server;
  server.put("a.txt", "file a\n");
  // The file names a busy port and a missing root: only -p and -r make start-up succeed.
  BusyPort busy;
  server.set("server", "port", std::to_string(busy.port()));
  server.set("server", "root", (server.dir().path() / "no-such-root").string());
  ASSERT_TRUE(server.start({"-p", "0", "-r", server.root().string()}));
  EXPECT_NE(server.port(), busy.port());
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "file a\n");
}

TEST(StartupTest, ThreadsFlagIsAccepted) {
  CorkProcess server;
  server.put("a.txt", "file a\n");
  ASSERT_TRUE(server.start({"--threads", "1"}));
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response));
  EXPECT_EQ(response.status, 200);
}

// The reactor and the workers run under SCHED_BATCH (their wake-ups do not preempt a running
// thread, so events are handled in batches under load). The scheduling policy of each thread is
// field 41 of its /proc stat file; SCHED_BATCH is 3.
TEST(StartupTest, ReactorAndWorkersRunUnderSchedBatch) {
  CorkProcess server;
  server.put("a.txt", "file a\n");
  ASSERT_TRUE(server.start({"--threads", "2"}));
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response));  // the pool is running
  ASSERT_EQ(response.status, 200);
  const std::vector<std::string> policies = server.thread_stat_fields(41);
  EXPECT_GE(std::count(policies.begin(), policies.end(), "3"), 3)
      << "threads under SCHED_BATCH (the reactor and two workers)";
}

class ExitSignalTest : public ::testing::TestWithParam<int> {};

TEST_P(ExitSignalTest, ExitsZero) {
  CorkProcess server;
  server.put("a.txt", "file a\n");
  ASSERT_TRUE(server.start());
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response));
  ASSERT_EQ(response.status, 200);
  // An idle keep-alive connection must not hold up the exit.
  RawClient idle;
  ASSERT_TRUE(idle.connect(server.port()));
  ASSERT_TRUE(idle.send_all(get_request("/a.txt")));
  ASSERT_TRUE(idle.read_response(response));
  int status = 0;
  ASSERT_TRUE(server.stop(GetParam(), status));
  EXPECT_TRUE(exited_zero(status))
      << describe_wait_status(status) << "; stderr: " << printable(server.stderr_text());
}

INSTANTIATE_TEST_SUITE_P(Signals, ExitSignalTest, ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return std::string(param.param == SIGTERM ? "Sigterm" : "Sigint");
                         });

TEST(SignalTest, SigpipeDoesNotKillIt) {
  CorkProcess server;
  server.put("a.txt", "file a\n");
  ASSERT_TRUE(server.start());
  ASSERT_EQ(::kill(server.pid(), SIGPIPE), 0);
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response))
      << "cork gone after SIGPIPE: " << printable(server.stderr_text());
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(server.running());
}

// SIGTERM while 50 MiB are being sent: new connections stop being served, the download
// completes byte-exact, and the exit status is 0.
TEST(SignalTest, SigtermLetsAnInFlightDownloadFinish) {
  constexpr std::size_t kSize = 50u << 20;
  constexpr std::size_t kFirst = 1u << 20;
  CorkProcess server;
  const std::string big = pseudo_random_bytes(kSize, 77);
  server.put("big.bin", big);
  server.put("a.txt", "file a\n");
  ASSERT_TRUE(server.start());

  RawClient download;
  ASSERT_TRUE(download.connect(server.port()));
  ASSERT_TRUE(download.send_all(get_request("/big.bin")));
  HttpResponse head;
  ASSERT_TRUE(download.read_head(head));
  ASSERT_EQ(head.status, 200);
  std::string body;
  ASSERT_TRUE(download.read_exactly(kFirst, body));

  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);

  // Bounded poll: soon no new connection gets a 200 (refused, closed, or left unanswered).
  bool stopped_accepting = false;
  auto deadline = Clock::now() + 5s;
  while (!stopped_accepting && Clock::now() < deadline) {
    RawClient probe;
    HttpResponse response;
    stopped_accepting =
        !probe.connect(server.port(), 1s) || !probe.send_all(get_request("/a.txt")) ||
        !probe.read_response(response, Method::kGet, 500ms) || response.status != 200;
    if (!stopped_accepting) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(stopped_accepting) << "new connections still served 5 s after SIGTERM";

  ASSERT_TRUE(download.read_exactly(kSize - kFirst, body, 60s)) << "the download was cut";
  EXPECT_EQ(first_difference(big, body), "");
  int status = 0;
  ASSERT_TRUE(server.wait_exit(status, 10s));
  EXPECT_TRUE(exited_zero(status))
      << describe_wait_status(status) << "; stderr: " << printable(server.stderr_text());
}

}  // namespace
}  // namespace cork::integration
