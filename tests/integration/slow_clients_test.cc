// Integration tests: clients that are slow or rude on purpose. Clients that reset mid-download or
// stop reading must not hold a worker (cork's I/O is non-blocking, so one worker is enough to
// serve everybody else), send_timeout must disconnect a reader that makes no progress, and the
// classic slow-HTTP attacks (slowhttptest: slow headers, slow read, overlapping ranges) must not
// stop ordinary clients from being answered promptly.
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "integration/command_support.h"
#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"
#include "integration/temp_dir_support.h"

namespace cork::integration {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kA = "file a\n";
constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * 1024;
constexpr int kSmallReceiveBuffer = 64 * 1024;

long long ms(Clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

// Neither copyable nor movable: owns a thread. An ordinary client that fetches /a.txt on a fresh
// connection every 100 ms until stopped, recording failures and the slowest answer, and samples
// cork's open sockets on the way (evidence that an attack really held connections open).
class Prober {
 public:
  Prober(const CorkProcess& server, std::chrono::milliseconds limit)
      : server_(server), limit_(limit), thread_([this] { run(); }) {}
  ~Prober() { stop(); }
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // After stop().
  int probes() const { return probes_; }
  long long slowest_ms() const { return slowest_ms_; }
  std::size_t peak_sockets() const { return peak_sockets_; }
  const std::vector<std::string>& failures() const { return failures_; }

 private:
  void run() {
    const int port = server_.port();
    // Bounded whatever happens: at most 5 minutes' worth of probes.
    for (int i = 0; i < 3000 && !stopping_; ++i) {
      const auto started = Clock::now();
      HttpResponse response;
      auto fetched = fetch(port, get_request("/a.txt"), response, Method::kGet, limit_);
      const long long took = ms(Clock::now() - started);
      slowest_ms_ = std::max(slowest_ms_, took);
      ++probes_;
      if (!fetched) {
        failures_.push_back("probe " + std::to_string(i) + " after " + std::to_string(took) +
                            " ms: " + fetched.message());
      } else if (response.status != 200 || response.body != kA) {
        failures_.push_back("probe " + std::to_string(i) + ": status " +
                            std::to_string(response.status));
      } else if (took >= limit_.count()) {
        failures_.push_back("probe " + std::to_string(i) + " took " + std::to_string(took) + " ms");
      }
      peak_sockets_ = std::max(peak_sockets_, server_.open_sockets());
      std::this_thread::sleep_for(100ms);  // the pace of the ordinary client
    }
  }

  const CorkProcess& server_;
  const std::chrono::milliseconds limit_;
  std::atomic<bool> stopping_{false};
  // Written by the thread, read after join().
  int probes_ = 0;
  long long slowest_ms_ = 0;
  std::size_t peak_sockets_ = 0;
  std::vector<std::string> failures_;
  std::thread thread_;  // last: starts after everything above is initialized
};

std::string describe(const Prober& prober) {
  std::string text = std::to_string(prober.probes()) + " probes, slowest " +
                     std::to_string(prober.slowest_ms()) + " ms, " +
                     std::to_string(prober.failures().size()) + " failures";
  for (std::size_t i = 0; i < prober.failures().size() && i < 5; ++i)
    text += "\n  " + prober.failures()[i];
  return text;
}

// ---------------------------------------------------------------------------------------------
// Clients that stop reading or reset, with a single worker

class RudeClientTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kBigSize = 32 * kMiB;

  void SetUp() override {
    big_ = pseudo_random_bytes(kBigSize, 7);
    server_.put("big.bin", big_);
    server_.put("a.txt", kA);
    server_.set("server", "threads", "1");  // a worker blocked anywhere would block everybody
  }

  // Requests big.bin with a small receive buffer and reads only the head.
  void start_stalled_download(RawClient& client) {
    client.set_receive_buffer(kSmallReceiveBuffer);
    ASSERT_TRUE(client.connect(server_.port()));
    ASSERT_TRUE(client.send_all(get_request("/big.bin")));
    HttpResponse head;
    ASSERT_TRUE(client.read_head(head));
    ASSERT_EQ(head.status, 200);
  }

  // /a.txt on a fresh connection, answered within 1 s.
  void expect_prompt_answer() {
    const auto started = Clock::now();
    HttpResponse response;
    ASSERT_TRUE(fetch(server_.port(), get_request("/a.txt"), response, Method::kGet, 2s));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, kA);
    EXPECT_LT(ms(Clock::now() - started), 1000) << "a worker seems to be blocked";
  }

  std::string big_;
  CorkProcess server_;
};

TEST_F(RudeClientTest, StalledAndResettingClientsDoNotBlockTheOnlyWorker) {
  ASSERT_TRUE(server_.start());
  // Eight downloads that stop reading after the head: cork's sends block (EAGAIN) and it waits
  // for EPOLLOUT instead of waiting in send().
  std::vector<RawClient> stalled(8);
  for (RawClient& client : stalled)
    ASSERT_NO_FATAL_FAILURE(start_stalled_download(client));
  ASSERT_NO_FATAL_FAILURE(expect_prompt_answer());

  // Downloads reset after 256 KiB, alternating with ordinary requests.
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    RawClient client;
    ASSERT_TRUE(client.connect(server_.port()));
    ASSERT_TRUE(client.send_all(get_request("/big.bin")));
    HttpResponse head;
    ASSERT_TRUE(client.read_head(head));
    std::string part;
    ASSERT_TRUE(client.read_exactly(256 * kKiB, part));
    EXPECT_EQ(first_difference(big_.substr(0, part.size()), part), "");
    client.close_with_reset();
    ASSERT_NO_FATAL_FAILURE(expect_prompt_answer());
  }
  ASSERT_TRUE(server_.running()) << "cork exited: " << printable(server_.stderr_text());

  // The stalled clients were only waiting: one of them reads its whole file, byte-exact.
  std::string body;
  ASSERT_TRUE(stalled.front().read_exactly(kBigSize, body, 30s));
  EXPECT_EQ(first_difference(big_, body), "");
}

// With send_timeout = 500ms, a client that stops reading is disconnected about 500 ms after
// cork's last successful send. Seen from here: cork's socket for it goes away.
TEST_F(RudeClientTest, ReaderThatStopsIsDisconnectedAfterSendTimeout) {
  server_.set("http", "send_timeout", "500ms");
  ASSERT_TRUE(server_.start());
  // Nothing else is connected: these are the listener and whatever else cork keeps.
  const std::size_t base_sockets = server_.open_sockets();
  ASSERT_GE(base_sockets, 1u);

  RawClient client;
  ASSERT_NO_FATAL_FAILURE(start_stalled_download(client));
  const auto stopped_reading = Clock::now();
  ASSERT_EQ(server_.open_sockets(), base_sockets + 1);
  // Other clients are served meanwhile.
  ASSERT_NO_FATAL_FAILURE(expect_prompt_answer());

  const auto deadline = stopped_reading + 10s;
  while (server_.open_sockets() > base_sockets && Clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  const long long elapsed = ms(Clock::now() - stopped_reading);
  ASSERT_EQ(server_.open_sockets(), base_sockets)
      << "the stalled connection was still open after 10 s";
  EXPECT_GE(elapsed, 375) << "disconnected before send_timeout";
  EXPECT_LE(elapsed, 3500) << "send_timeout = 500ms took " << elapsed << " ms";

  // What was sent before the close is a byte-exact prefix, and it is not the whole body.
  Drained rest = client.read_until_close(10s);
  EXPECT_TRUE(rest.closed());
  EXPECT_LT(rest.data.size(), kBigSize);
  EXPECT_EQ(first_difference(big_.substr(0, rest.data.size()), rest.data), "");
  ASSERT_NO_FATAL_FAILURE(expect_prompt_answer());
}

// A response that send_timeout cuts off is logged with the time it really took, not 0.000 s
// (the duration used to stop at the worker's last wake).
TEST_F(RudeClientTest, StalledResponseIsLoggedWithItsRealDuration) {
  const std::filesystem::path log_path = server_.dir().path() / "access.log";
  server_.set("log", "access_log", log_path.string());
  server_.set("http", "send_timeout", "500ms");
  ASSERT_TRUE(server_.start());
  RawClient client;
  ASSERT_NO_FATAL_FAILURE(start_stalled_download(client));
  // The access log has its own thread: wait for the line of the cut-off response.
  std::string line;
  const auto deadline = Clock::now() + 10s;
  while (line.empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    const std::string log = std::filesystem::exists(log_path) ? read_file(log_path) : "";
    const std::size_t at = log.find("\"GET /big.bin ");
    if (at != std::string::npos && log.find('\n', at) != std::string::npos) {
      line = log.substr(at, log.find('\n', at) - at);
    }
  }
  ASSERT_FALSE(line.empty()) << "no access-log line for the stalled response";
  const double seconds = std::stod(line.substr(line.rfind(' ') + 1));
  EXPECT_GE(seconds, 0.45) << line;
  EXPECT_LT(seconds, 10.0) << line;
}

// send_timeout bounds the time without progress, not the whole response: a client reading 2 MiB
// every 100 ms takes more than 1.6 s for 32 MiB, longer than send_timeout = 1s, and gets all of
// it.
TEST_F(RudeClientTest, SteadySlowReaderOutlivesSendTimeout) {
  server_.set("http", "send_timeout", "1s");
  ASSERT_TRUE(server_.start());
  RawClient client;
  client.set_receive_buffer(kSmallReceiveBuffer);
  ASSERT_TRUE(client.connect(server_.port()));
  ASSERT_TRUE(client.send_all(get_request("/big.bin")));
  HttpResponse head;
  ASSERT_TRUE(client.read_head(head));
  ASSERT_EQ(head.status, 200);
  const auto started = Clock::now();
  std::string body;
  while (body.size() < kBigSize && Clock::now() - started < 30s) {
    const std::size_t chunk = std::min(2 * kMiB, kBigSize - body.size());
    ASSERT_TRUE(client.read_exactly(chunk, body, 5s)) << "after " << body.size() << " bytes";
    std::this_thread::sleep_for(100ms);  // the pace of the slow reader
  }
  EXPECT_GT(ms(Clock::now() - started), 1250) << "the read was not slower than send_timeout";
  EXPECT_EQ(first_difference(big_, body), "");
}

// ---------------------------------------------------------------------------------------------
// slowhttptest

bool have_slowhttptest() {
  int status = -1;
  run_command("command -v slowhttptest >/dev/null 2>&1", status);
  return status == 0;
}

// slowhttptest's report without its terminal colour codes.
std::string without_colours(const std::string& text) {
  return std::regex_replace(text, std::regex("\x1b\\[[0-9;]*[A-Za-z]"), "");
}

class SlowHttpTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kFileSize = 1000 * 1000;

  void SetUp() override {
    if (!have_slowhttptest()) {
      GTEST_SKIP() << "slowhttptest is not installed (apt-get install slowhttptest)";
    }
    file_ = pseudo_random_bytes(kFileSize, 11);
    server_.put("big.bin", file_);
    server_.put("a.txt", kA);
    // Slowloris connections go away after 2 s.
    server_.set("http", "header_timeout", "2");
    server_.set("log", "access_log", (server_.dir().path() / "access.log").string());
    ASSERT_TRUE(server_.start());
  }

  // Runs slowhttptest with `options` against /target for 10 s while a Prober checks that
  // ordinary GETs are each answered within 2 s.
  void attack(const std::string& options, const std::string& target) {
    const std::string url = "http://127.0.0.1:" + std::to_string(server_.port()) + target;
    int status = -1;
    std::optional<std::string> out;
    for (int attempt = 1;; ++attempt) {
      prober_ = std::make_unique<Prober>(server_, 2000ms);
      const auto started = std::chrono::steady_clock::now();
      // -l 10: ten seconds of attack; `timeout` bounds the run if slowhttptest misbehaves.
      out = run_command("timeout -k 5 40 slowhttptest " + options + " -l 10 -p 3 -u " +
                            shell_quote(url) + " 2>&1",
                        status);
      prober_->stop();
      // Once, under ThreadSanitizer on a loaded machine, slowhttptest ended after 1.5 s of its
      // 10 with status 0 and no attack to speak of: run it once more, saying so.
      if (attempt == 2 || !out || std::chrono::steady_clock::now() - started >= 8s) break;
      RecordProperty("slowhttptest_ended_early", without_colours(*out));
    }
    ASSERT_TRUE(out.has_value()) << "cannot run slowhttptest";
    report_ = without_colours(*out);
    EXPECT_EQ(status, 0) << report_.substr(report_.size() > 3000 ? report_.size() - 3000 : 0);
    ASSERT_TRUE(server_.running()) << "cork exited: " << printable(server_.stderr_text(), 2000);
    EXPECT_TRUE(prober_->failures().empty()) << describe(*prober_);
    EXPECT_GE(prober_->probes(), 20) << describe(*prober_);
    // slowhttptest's own probe agrees.
    EXPECT_FALSE(std::regex_search(report_, std::regex("service available:\\s*NO")))
        << report_.substr(report_.size() > 3000 ? report_.size() - 3000 : 0);
  }

  std::string file_;
  CorkProcess server_;
  std::unique_ptr<Prober> prober_;
  std::string report_;
};

// Slowloris: 500 connections at 50 a second, each sending a header line every second and never
// finishing its head. header_timeout closes each after 2 s.
TEST_F(SlowHttpTest, SlowHeadersDoNotStopOrdinaryClients) {
  ASSERT_NO_FATAL_FAILURE(attack("-H -c 500 -r 50 -i 1 -x 24", "/a.txt"));
  EXPECT_GE(prober_->peak_sockets(), 50u)
      << "the attack never held many connections: " << describe(*prober_);
}

// Slow read: 300 connections with tiny receive windows, each pipelining 3 GETs of a 1 MB file
// and reading 32 bytes every 5 s. cork must wait for EPOLLOUT, never in send().
TEST_F(SlowHttpTest, SlowReadersDoNotStopOrdinaryClients) {
  ASSERT_NO_FATAL_FAILURE(attack("-X -c 300 -r 100 -w 512 -y 1024 -n 5 -z 32 -k 3", "/big.bin"));
  EXPECT_GE(prober_->peak_sockets(), 150u)
      << "the attack never held many connections: " << describe(*prober_);
}

// "Apache killer": Range: bytes=0-,5-0,5-1,5-2,...,5-1500 on 300 connections. Many overlapping
// ranges must not be answered part by part (a multipart body many times the file): cork sends
// the whole file (200) or 416, never 206, and never more bytes than the file has.
TEST_F(SlowHttpTest, OverlappingRangesAreNotAmplified) {
  // The same kind of field on a GET from here, so that the body is seen too.
  for (int last : {8, 20, 1500}) {
    SCOPED_TRACE("ranges up to 5-" + std::to_string(last));
    std::string ranges = "bytes=0-";
    for (int i = 0; i <= last; ++i)
      ranges += ",5-" + std::to_string(i);
    HttpResponse response;
    ASSERT_TRUE(
        fetch(server_.port(), get_request("/big.bin", "Range: " + ranges + "\r\n"), response));
    EXPECT_TRUE(response.status == 200 || response.status == 416) << "status " << response.status;
    if (response.status == 200) {
      EXPECT_EQ(first_difference(file_, response.body), "");
    }
  }

  ASSERT_NO_FATAL_FAILURE(attack("-R -c 300 -r 30 -a 10 -b 1500", "/big.bin"));
  // Every one of slowhttptest's requests is in the access log with its status and body bytes
  // (combined format: ... "METHOD target HTTP/x" status bytes ...).
  const std::string log = read_file(server_.dir().path() / "access.log");
  const std::regex line_pattern("\"(GET|HEAD) /big\\.bin HTTP/1\\.[01]\" (\\d{3}) (\\d+) ");
  std::size_t range_requests = 0;
  for (const std::string& line : split_lines(log)) {
    std::smatch match;
    if (!std::regex_search(line, match, line_pattern)) continue;
    ++range_requests;
    const int status = std::stoi(match[2]);
    const unsigned long long bytes = std::stoull(match[3]);
    EXPECT_TRUE(status == 200 || status == 416) << line;
    EXPECT_LE(bytes, kFileSize) << line;
  }
  EXPECT_GE(range_requests, 100u) << "slowhttptest's requests did not reach cork";
}

}  // namespace
}  // namespace cork::integration
