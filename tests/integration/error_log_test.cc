// Integration tests: the error log never holds up a request. Its lines go to a thread of their
// own through a bounded queue, so a stderr pipe that nobody reads (`docker logs` stalled, a
// stopped reader) costs dropped lines, counted and reported once the pipe drains, instead of
// workers waiting in write(2). The lines written at shutdown still arrive.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

using namespace std::chrono_literals;

// The value on the line "name value", or -1.
long long value_of(const std::string& text, const std::string& name) {
  const std::size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + name.size() + 2));
}

// level = debug logs one line per bad request (about 80 bytes): 3000 of them are far more than
// the pipe (64 KiB) and the error log's queue hold together. Every request must still be
// answered at once; before, the worker that logged waited for the pipe, and the rest with it.
TEST(ErrorLogTest, AStderrPipeNobodyReadsHoldsUpNoRequest) {
  constexpr int kRequests = 3000;
  CorkProcess server;
  server.set("log", "level", "debug");
  server.set("server", "status_path", "/.cork/status");
  server.pipe_stderr();
  ASSERT_TRUE(server.start());
  // From here on nobody reads cork's stderr until the requests are done.
  const std::string bad = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n";
  for (int i = 0; i < kRequests; ++i) {
    HttpResponse response;
    ASSERT_TRUE(fetch(server.port(), bad, response, Method::kGet, 2s)) << "request " << i;
    ASSERT_EQ(response.status, 400) << "request " << i;
  }
  HttpResponse status;
  ASSERT_TRUE(fetch(server.port(), get_request("/.cork/status"), status, Method::kGet, 2s));
  const long long dropped = value_of(status.body, "cork_error_log_dropped_total");
  EXPECT_GT(dropped, 0) << status.body;

  // Reading the pipe lets the log thread go on: it reports what it had to drop.
  ASSERT_TRUE(server.wait_for_stderr("error log queue full: ", 5s));
  EXPECT_NE(server.stderr_text().find("bad request (400)"), std::string::npos);

  // Shutdown lines are written before the exit.
  int wait_status = 0;
  ASSERT_TRUE(server.stop(SIGTERM, wait_status));
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0)
      << describe_wait_status(wait_status);
  const std::string text = server.stderr_text();
  EXPECT_NE(text.find("SIGTERM: shutting down"), std::string::npos) << printable(text, 2000);
  EXPECT_NE(text.find("[info] stopped\n"), std::string::npos) << printable(text, 2000);
}

}  // namespace
}  // namespace cork::integration
