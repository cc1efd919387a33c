// Integration tests: the access log, one line per request in the combined log format:
//   127.0.0.1 - - [22/Nov/2026:14:00:00 +0000] "GET /x HTTP/1.1" 200 123 "referer" "agent"
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
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

constexpr const char* kDate =
    "\\[[0-9]{2}/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/[0-9]{4}:[0-9]{2}:[0-9]{2}:"
    "[0-9]{2} [+-][0-9]{4}\\]";

std::string escape_regex(const std::string& text) {
  static const std::regex kSpecial(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(text, kSpecial, R"(\$&)");
}

// The regex of one combined-format line.
std::string combined_line(const std::string& request_line, int status, std::size_t bytes,
                          const std::string& referer, const std::string& agent_regex) {
  return "127\\.0\\.0\\.1 - - " + std::string(kDate) + " \"" + escape_regex(request_line) + "\" " +
         std::to_string(status) + " " + std::to_string(bytes) + " \"" + escape_regex(referer) +
         "\" \"" + agent_regex + "\" [0-9]+\\.[0-9]{3}";  // + the duration in seconds
}

// Stops the server (which flushes its logs) and expects a clean exit.
void stop_cleanly(CorkProcess& server) {
  int status = 0;
  ASSERT_TRUE(server.stop(SIGTERM, status));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_wait_status(status);
}

// Each pattern matches exactly one line, and there are no other lines.
void expect_lines(const std::vector<std::string>& lines, const std::vector<std::string>& patterns,
                  const std::string& log) {
  EXPECT_EQ(lines.size(), patterns.size()) << "log:\n" << log;
  for (const std::string& pattern : patterns) {
    std::regex expected(pattern);
    std::size_t matches = 0;
    for (const std::string& line : lines)
      matches += std::regex_match(line, expected) ? 1 : 0;
    EXPECT_EQ(matches, 1u) << "pattern: " << pattern << "\nlog:\n" << log;
  }
}

TEST(AccessLogTest, FileGetsOneCombinedLinePerRequest) {
  CorkProcess server;
  server.put("a.txt", "file a\n");
  auto log_path = server.dir().path() / "access.log";
  server.set("log", "access_log", log_path.string());
  ASSERT_TRUE(server.start());

  int exit_status = -1;
  std::optional<std::string> code = run_command(
      "curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:" + std::to_string(server.port()) +
          "/a.txt",
      exit_status);
  ASSERT_TRUE(code.has_value());
  ASSERT_EQ(exit_status, 0) << "curl failed (is curl installed? `make deps` installs it)";
  ASSERT_EQ(*code, "200");

  HttpResponse missing;
  ASSERT_TRUE(fetch(server.port(),
                    "GET /missing.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: cork-it/1.0\r\n"
                    "Referer: http://example.org/from\r\n\r\n",
                    missing));
  ASSERT_EQ(missing.status, 404);

  HttpResponse old;
  ASSERT_TRUE(fetch(server.port(), "GET /a.txt?x=1 HTTP/1.0\r\n\r\n", old));
  ASSERT_EQ(old.status, 200);

  ASSERT_NO_FATAL_FAILURE(stop_cleanly(server));
  std::string log = read_file(log_path);
  expect_lines(split_lines(log),
               {
                   combined_line("GET /a.txt HTTP/1.1", 200, 7, "-", "curl/[^\"]+"),
                   combined_line("GET /missing.txt HTTP/1.1", 404, missing.body.size(),
                                 "http://example.org/from", "cork-it/1\\.0"),
                   combined_line("GET /a.txt?x=1 HTTP/1.0", 200, 7, "-", "-"),
               },
               log);
  EXPECT_EQ(server.stdout_text().find("GET /a.txt"), std::string::npos)
      << "access lines on stdout although access_log is a file";
}

TEST(AccessLogTest, DashWritesToStdout) {
  CorkProcess server;
  server.put("a.txt", "file a\n");
  server.set("log", "access_log", "-");
  ASSERT_TRUE(server.start());
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/a.txt", "User-Agent: cork-it/2.0\r\n"), response));
  ASSERT_EQ(response.status, 200);
  ASSERT_NO_FATAL_FAILURE(stop_cleanly(server));
  std::string out = server.stdout_text();
  expect_lines(split_lines(out),
               {combined_line("GET /a.txt HTTP/1.1", 200, 7, "-", "cork-it/2\\.0")}, out);
}

// The value on the line "name value" of a status page, or -1.
long long value_of(const std::string& text, const std::string& name) {
  const std::size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + name.size() + 2));
}

// The access log on a full file system (RLIMIT_FSIZE: cork's writes past 16 KiB fail with EFBIG,
// as they would with ENOSPC). cork keeps serving (SIGXFSZ used to kill it here), the file holds
// only whole lines, every line that did not fit is counted in cork_access_log_dropped_total, and
// the error log says why.
TEST(AccessLogTest, AFullFileSystemCountsDroppedLinesAndLeavesNoHalfLine) {
  constexpr rlim_t kLimit = 16 * 1024;
  constexpr int kRequests = 600;  // about 80 bytes a line: some 200 fit
  CorkProcess server;
  server.put("a.txt", "file a\n");
  const auto log_path = server.dir().path() / "access.log";
  server.set("log", "access_log", log_path.string());
  server.set("server", "status_path", "/.cork/status");
  server.set_file_size_limit(kLimit);
  ASSERT_TRUE(server.start());
  RawClient client;
  ASSERT_TRUE(client.connect(server.port()));
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(client.send_all(get_request("/a.txt?n=" + std::to_string(i)))) << i;
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response))
        << "request " << i << "; cork " << (server.running() ? "runs" : "has exited");
    ASSERT_EQ(response.status, 200);
  }
  // Every line is either in the file or counted. The status requests have lines of their own
  // (dropped too: the file is full), counted once the page that shows them was sent.
  long long dropped = -1;
  std::size_t lines = 0;
  int earlier_reads = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;; ++earlier_reads) {
    ASSERT_TRUE(client.send_all(get_request("/.cork/status")));
    HttpResponse status;
    ASSERT_TRUE(client.read_response(status));
    dropped = value_of(status.body, "cork_access_log_dropped_total");
    lines = split_lines(read_file(log_path)).size();
    if (dropped >= 0 && static_cast<std::size_t>(dropped) + lines ==
                            static_cast<std::size_t>(kRequests + earlier_reads)) {
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "dropped " << dropped << " + lines " << lines << " != " << kRequests << " + "
        << earlier_reads;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(dropped, 0);
  ASSERT_NO_FATAL_FAILURE(stop_cleanly(server));

  const std::string log = read_file(log_path);
  ASSERT_FALSE(log.empty());
  EXPECT_LE(log.size(), kLimit);
  EXPECT_EQ(log.back(), '\n') << "half a line at the end";
  const std::regex line_pattern("127\\.0\\.0\\.1 - - " + std::string(kDate) +
                                " \"GET /a\\.txt\\?n=[0-9]+ HTTP/1\\.1\" 200 7 \"-\" \"-\" "
                                "[0-9]+\\.[0-9]{3}");
  for (const std::string& line : split_lines(log))
    EXPECT_TRUE(std::regex_match(line, line_pattern)) << "not a whole line: " << line;
  EXPECT_NE(server.stderr_text().find("File too large"), std::string::npos)
      << printable(server.stderr_text(), 2000);
  EXPECT_NE(server.stderr_text().find("lines dropped"), std::string::npos);
}

TEST(AccessLogTest, OffWritesNoAccessLines) {
  CorkProcess server;  // the harness default is access_log = off
  server.put("a.txt", "file a\n");
  ASSERT_TRUE(server.start());
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response));
  ASSERT_EQ(response.status, 200);
  ASSERT_NO_FATAL_FAILURE(stop_cleanly(server));
  EXPECT_EQ(server.stdout_text().find("GET /a.txt"), std::string::npos);
  EXPECT_EQ(server.stderr_text().find("\"GET /a.txt"), std::string::npos);
}

}  // namespace
}  // namespace cork::integration
