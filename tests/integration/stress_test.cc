// Integration test: everything at once for ten seconds. Short connections, pipelined keep-alive
// connections, clients that abort mid-response, and idle connections that the 1 s keep-alive and
// header timeouts must close, all against one cork with several workers. Afterwards cork still
// answers, holds no leftover connections, and exits 0 on SIGTERM. Meant to run under
// ThreadSanitizer too (make test-tsan), where a data race in cork makes it exit non-zero.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <random>
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

constexpr auto kLoadTime = 10s;
constexpr std::size_t kKiB = 1024;
constexpr int kSmallFiles = 8;

// Neither copyable nor movable: shared by the load threads (safe to call from any thread).
class Tally {
 public:
  void ok() { ++ok_; }
  void fail(const std::string& who, const std::string& what) {
    ++failures_;
    std::lock_guard lock(mutex_);
    if (messages_.size() < 20) messages_.push_back(who + ": " + what);
  }
  int ok_count() const { return ok_; }
  int failure_count() const { return failures_; }
  std::string messages() const {
    std::lock_guard lock(mutex_);
    std::string text;
    for (const std::string& m : messages_)
      text += "\n  " + m;
    return text;
  }

 private:
  std::atomic<int> ok_{0};
  std::atomic<int> failures_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;  // guarded by mutex_
};

class StressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < kSmallFiles; ++i) {
      small_[static_cast<std::size_t>(i)] = pseudo_random_bytes(
          static_cast<std::size_t>(100 + 3001 * i), static_cast<std::uint64_t>(100 + i));
      server_.put(name(i), small_[static_cast<std::size_t>(i)]);
    }
    big_ = pseudo_random_bytes(2048 * kKiB, 200);
    server_.put("big.bin", big_);
    server_.set("server", "threads", "4");
    server_.set("http", "keepalive_timeout", "1");
    server_.set("http", "header_timeout", "1");
    ASSERT_TRUE(server_.start());
    end_ = Clock::now() + kLoadTime;
  }

  static std::string name(int i) { return "f" + std::to_string(i) + ".bin"; }
  bool running() const { return Clock::now() < end_; }

  // A fresh connection per request, closed by cork after its answer (Connection: close);
  // every fourth request is a HEAD.
  void short_connections(int id) {
    const std::string who = "short " + std::to_string(id);
    std::mt19937 random(static_cast<unsigned>(id));
    for (int n = 0; n < 100'000 && running(); ++n) {
      const int file = static_cast<int>(random() % kSmallFiles);
      const bool head = n % 4 == 3;
      const std::string target = "/" + name(file);
      const std::string request = head ? head_request(target, "Connection: close\r\n")
                                       : get_request(target, "Connection: close\r\n");
      RawClient client;
      HttpResponse response;
      auto result = client.connect(server_.port());
      if (result) result = client.send_all(request);
      if (result) result = client.read_response(response, head ? Method::kHead : Method::kGet);
      if (!result) {
        tally_.fail(who, result.message());
        continue;
      }
      const std::string& expected = small_[static_cast<std::size_t>(file)];
      if (response.status != 200 || (!head && response.body != expected) ||
          response.header("Content-Length") != std::to_string(expected.size())) {
        tally_.fail(who, "status " + std::to_string(response.status) + " for " + target + ", " +
                             first_difference(expected, response.body));
        continue;
      }
      Drained rest = client.read_until_close(3s);
      if (!rest.closed() || !rest.data.empty()) {
        tally_.fail(who, "after Connection: close: " + std::to_string(rest.data.size()) +
                             " more bytes, closed " + (rest.closed() ? "yes" : "no"));
        continue;
      }
      tally_.ok();
    }
  }

  // Keep-alive connections with five pipelined requests per send, some with a Range. The server
  // may close a connection only after it was idle for keepalive_timeout; one that was idle for
  // less and ends is a failure.
  void pipelining(int id) {
    const std::string who = "pipelining " + std::to_string(id);
    std::mt19937 random(static_cast<unsigned>(1000 + id));
    RawClient client;
    auto last_answer = Clock::now();
    for (int n = 0; n < 100'000 && running(); ++n) {
      if (!client.is_connected()) {
        if (auto connected = client.connect(server_.port()); !connected) {
          tally_.fail(who, connected.message());
          continue;
        }
      }
      std::array<int, 5> files{};
      std::array<bool, 5> ranged{};
      std::string batch;
      for (std::size_t i = 0; i < files.size(); ++i) {
        files[i] = static_cast<int>(random() % kSmallFiles);
        ranged[i] = random() % 5 == 0;
        batch += get_request("/" + name(files[i]), ranged[i] ? "Range: bytes=10-59\r\n" : "");
      }
      const auto idle_for = Clock::now() - last_answer;
      auto sent = client.send_all(batch);
      for (std::size_t i = 0; sent && i < files.size(); ++i) {
        HttpResponse response;
        auto read = client.read_response(response);
        if (!read) {
          const bool nothing = i == 0 && response.status == 0 && client.buffered() == 0;
          if (!(nothing && idle_for > 900ms))
            tally_.fail(who, "response " + std::to_string(i) + ": " + read.message());
          client.close();
          break;
        }
        const std::string& whole = small_[static_cast<std::size_t>(files[i])];
        const std::string expected = ranged[i] ? whole.substr(10, 50) : whole;
        if (response.status != (ranged[i] ? 206 : 200) || response.body != expected) {
          tally_.fail(who, "response " + std::to_string(i) + ": status " +
                               std::to_string(response.status) + ", " +
                               first_difference(expected, response.body));
          client.close();
          break;
        }
        tally_.ok();
        last_answer = Clock::now();
      }
      if (!sent) {
        if (idle_for <= 900ms) tally_.fail(who, sent.message());
        client.close();
      }
    }
  }

  // Downloads of big.bin that end early: after the request, after the head, or some way into
  // the body; by close (FIN) or reset (RST). What did arrive must be right.
  void aborting(int id) {
    const std::string who = "aborting " + std::to_string(id);
    std::mt19937 random(static_cast<unsigned>(2000 + id));
    for (int n = 0; n < 100'000 && running(); ++n) {
      RawClient client;
      auto result = client.connect(server_.port());
      if (result) result = client.send_all(get_request("/big.bin"));
      const int stage = n % 3;
      HttpResponse head;
      if (result && stage > 0) result = client.read_head(head);
      std::string part;
      if (result && stage == 2) {
        result = client.read_exactly(1 + random() % (512 * kKiB), part);
        if (result && big_.compare(0, part.size(), part) != 0) {
          tally_.fail(who, "wrong bytes: " + first_difference(big_.substr(0, part.size()), part));
        }
      }
      if (!result) {
        tally_.fail(who, result.message());
        continue;
      }
      if (stage > 0 && head.status != 200) {
        tally_.fail(who, "status " + std::to_string(head.status));
      }
      if (random() % 2 == 0) {
        client.close_with_reset();
      } else {
        client.close();
      }
      tally_.ok();
    }
  }

  // Batches of connections that go quiet: with nothing sent, with half a head, or after one
  // answered request. header_timeout and keepalive_timeout (1 s each) must close every one of
  // them, with nothing more than a 408 sent.
  void idling(int id) {
    const std::string who = "idling " + std::to_string(id);
    for (int n = 0; n < 1000 && running(); ++n) {
      std::vector<RawClient> clients(6);
      bool ready = true;
      for (std::size_t i = 0; i < clients.size() && ready; ++i) {
        auto result = clients[i].connect(server_.port());
        if (result && i % 3 == 1) result = clients[i].send_all("GET /f1.bin HTTP/1.1\r\nHost: x");
        if (result && i % 3 == 2) {
          result = clients[i].send_all(get_request("/f2.bin"));
          HttpResponse response;
          if (result) result = clients[i].read_response(response);
          if (result && response.status != 200) {
            result = ::testing::AssertionFailure() << "status " << response.status;
          }
        }
        if (!result) {
          tally_.fail(who, "setting up: " + std::string(result.message()));
          ready = false;
        }
      }
      if (!ready) continue;
      for (std::size_t i = 0; i < clients.size(); ++i) {
        Drained rest = clients[i].read_until_close(4s);
        if (!rest.closed()) {
          tally_.fail(who, "connection " + std::to_string(i) + " still open after 4 s");
        } else if (!rest.data.empty() && rest.data.rfind("HTTP/1.1 408 ", 0) != 0) {
          tally_.fail(who, "unexpected bytes before the close: " + printable(rest.data, 100));
        } else {
          tally_.ok();
        }
      }
    }
  }

  CorkProcess server_;
  std::array<std::string, kSmallFiles> small_;
  std::string big_;
  Clock::time_point end_;
  Tally tally_;
};

TEST_F(StressTest, MixedClientsForTenSecondsThenCleanShutdown) {
  const std::size_t base_sockets = server_.open_sockets();  // the listener (and nothing else)
  const std::vector<std::function<void()>> roles = {
      [this] { short_connections(0); },
      [this] { short_connections(1); },
      [this] { pipelining(0); },
      [this] { pipelining(1); },
      [this] { pipelining(2); },
      [this] { aborting(0); },
      [this] { aborting(1); },
      [this] { idling(0); },
      [this] { idling(1); },
  };
  std::vector<std::thread> threads;
  for (const auto& role : roles)
    threads.emplace_back(role);
  for (std::thread& thread : threads)
    thread.join();

  EXPECT_EQ(tally_.failure_count(), 0) << tally_.failure_count() << " failures, "
                                       << tally_.ok_count() << " successes:" << tally_.messages();
  EXPECT_GE(tally_.ok_count(), 1000) << "hardly any load was generated";
  ASSERT_TRUE(server_.running()) << "cork exited: " << printable(server_.stderr_text(), 3000);

  // Still serving, and every connection of the load is closed once the 1 s timeouts have passed:
  // cork has the sockets it started with. (Open files are not counted: the file cache keeps
  // some open on purpose.)
  for (int i = 0; i < kSmallFiles; ++i) {
    HttpResponse response;
    ASSERT_TRUE(fetch(server_.port(), get_request("/" + name(i)), response));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, small_[static_cast<std::size_t>(i)]);
  }
  const auto deadline = Clock::now() + 5s;
  while (server_.open_sockets() > base_sockets && Clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(server_.open_sockets(), base_sockets) << "connections left open after the load";

  int status = 0;
  ASSERT_TRUE(server_.stop(SIGTERM, status, 15s));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << describe_wait_status(status) << "; stderr: " << printable(server_.stderr_text(), 3000);
  const std::string err = server_.stderr_text();
  for (const char* alarm : {"Sanitizer", "runtime error"}) {
    EXPECT_EQ(err.find(alarm), std::string::npos) << printable(err, 5000);
  }
}

}  // namespace
}  // namespace cork::integration
