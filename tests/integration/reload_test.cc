// Integration tests: SIGHUP reloads the configuration without dropping established connections
// (and keeps the old one when the new one is bad); SIGUSR1 reopens the log files (logrotate).
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

using namespace std::chrono_literals;

// A config as CorkProcess writes it, with `root` and `extra` lines.
std::string config_text(const std::filesystem::path& root, const std::string& extra_http = "",
                        const std::string& extra_log = "") {
  return "[server]\nhost = 127.0.0.1\nport = 0\nroot = " + root.string() + "\n[http]\n" +
         extra_http + "[log]\naccess_log = off\nerror_log = -\n" + extra_log;
}

// Waits up to 5 s for `needle` to appear in the file at `path`.
bool wait_for_text(const std::filesystem::path& path, const std::string& needle) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(path) && read_file(path).find(needle) != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

TEST(ReloadTest, SighupSwitchesTheRootWithoutDroppingConnections) {
  CorkProcess server;
  server.put("a.txt", "old root\n");
  ASSERT_TRUE(server.start());
  RawClient client;
  ASSERT_TRUE(client.connect(server.port()));
  ASSERT_TRUE(client.send_all(get_request("/a.txt")));
  HttpResponse response;
  ASSERT_TRUE(client.read_response(response));
  ASSERT_EQ(response.body, "old root\n");

  const auto new_root = server.dir().path() / "new-root";
  server.dir().write_file("new-root/a.txt", "new root\n");
  write_file(server.config_path(), config_text(new_root, "cache_control = max-age=5\n"));
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  ASSERT_TRUE(server.wait_for_stderr("configuration reloaded", 5s)) << server.stderr_text();

  // The same connection, still open, now gets the new root and the new Cache-Control.
  ASSERT_TRUE(client.send_all(get_request("/a.txt")));
  ASSERT_TRUE(client.read_response(response));
  EXPECT_EQ(response.body, "new root\n");
  EXPECT_EQ(response.header("cache-control"), "max-age=5");
  HttpResponse fresh;
  ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), fresh));
  EXPECT_EQ(fresh.body, "new root\n");
}

TEST(ReloadTest, BadNewConfigIsRejectedAndTheOldOneStays) {
  CorkProcess server;
  server.put("a.txt", "still here\n");
  ASSERT_TRUE(server.start());
  RawClient client;
  ASSERT_TRUE(client.connect(server.port()));

  write_file(server.config_path(), config_text(server.root(), "no_such_key = 1\n"));
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  ASSERT_TRUE(server.wait_for_stderr("configuration not reloaded", 5s)) << server.stderr_text();
  EXPECT_NE(server.stderr_text().find("unknown key 'no_such_key'"), std::string::npos);

  // A root that does not exist is rejected too.
  write_file(server.config_path(), config_text(server.dir().path() / "missing"));
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  ASSERT_TRUE(server.wait_for_stderr("missing: No such file or directory", 5s))
      << server.stderr_text();

  ASSERT_TRUE(client.send_all(get_request("/a.txt")));
  HttpResponse response;
  ASSERT_TRUE(client.read_response(response));
  EXPECT_EQ(response.body, "still here\n");
  EXPECT_TRUE(server.running());
}

// A new error log that can be opened and an access log that cannot: the reload is refused as a
// whole. Its error goes where errors went before (it used to go to the new file, which the
// refused reload had already switched to), and no new file is left behind.
TEST(ReloadTest, RefusedReloadMovesNoLog) {
  CorkProcess server;
  server.put("a.txt", "a\n");
  ASSERT_TRUE(server.start());
  const auto new_error_log = server.dir().path() / "new-error.log";
  const auto bad_access_log = server.dir().path() / "missing" / "access.log";
  write_file(server.config_path(),
             "[server]\nhost = 127.0.0.1\nport = 0\nroot = " + server.root().string() +
                 "\n[log]\nerror_log = " + new_error_log.string() +
                 "\naccess_log = " + bad_access_log.string() + "\n");
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  ASSERT_TRUE(server.wait_for_stderr("configuration not reloaded", 5s))
      << (std::filesystem::exists(new_error_log) ? "new error log: " + read_file(new_error_log)
                                                 : std::string("no new error log"));
  EXPECT_NE(server.stderr_text().find(bad_access_log.string()), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(new_error_log));

  // Later lines go to stderr as well.
  ASSERT_EQ(::kill(server.pid(), SIGUSR1), 0);
  EXPECT_TRUE(server.wait_for_stderr("log files reopened", 5s));
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response));
  EXPECT_EQ(response.status, 200);
}

TEST(ReloadTest, SighupAppliesNewLimitsToLaterRequests) {
  CorkProcess server;
  server.put("a.txt", "a\n");
  ASSERT_TRUE(server.start());
  const std::string long_target = "/a.txt?" + std::string(300, 'q');
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request(long_target), response));
  EXPECT_EQ(response.status, 200);
  write_file(server.config_path(), config_text(server.root(), "max_request_line = 128\n"));
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  ASSERT_TRUE(server.wait_for_stderr("configuration reloaded", 5s));
  ASSERT_TRUE(fetch(server.port(), get_request(long_target), response));
  EXPECT_EQ(response.status, 414);
}

TEST(ReloadTest, Sigusr1ReopensTheAccessLogAfterRotation) {
  CorkProcess server;
  server.put("a.txt", "a\n");
  const auto log = server.dir().path() / "access.log";
  server.set("log", "access_log", log.string());
  ASSERT_TRUE(server.start());
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/before"), response));
  // The access log has its own thread: wait for the line before rotating.
  ASSERT_TRUE(wait_for_text(log, "/before"));

  // logrotate: move the file away, then tell cork.
  const auto rotated = server.dir().path() / "access.log.1";
  std::filesystem::rename(log, rotated);
  ASSERT_EQ(::kill(server.pid(), SIGUSR1), 0);
  ASSERT_TRUE(server.wait_for_stderr("log files reopened", 5s)) << server.stderr_text();
  ASSERT_TRUE(fetch(server.port(), get_request("/after"), response));

  // The access log line is written after the response; wait for it to appear.
  ASSERT_TRUE(wait_for_text(log, "/after")) << "SIGUSR1 did not create a new access log";
  EXPECT_NE(read_file(log).find("GET /after"), std::string::npos);
  EXPECT_EQ(read_file(log).find("/before"), std::string::npos);
  EXPECT_NE(read_file(rotated).find("GET /before"), std::string::npos);
  EXPECT_EQ(read_file(rotated).find("/after"), std::string::npos);
}

TEST(ReloadTest, SighupMovesTheAccessLog) {
  CorkProcess server;
  server.put("a.txt", "a\n");
  ASSERT_TRUE(server.start());
  const auto log = server.dir().path() / "new-access.log";
  write_file(server.config_path(),
             "[server]\nhost = 127.0.0.1\nport = 0\nroot = " + server.root().string() +
                 "\n[log]\naccess_log = " + log.string() + "\n");
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  ASSERT_TRUE(server.wait_for_stderr("configuration reloaded", 5s)) << server.stderr_text();
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response));
  ASSERT_TRUE(wait_for_text(log, "/a.txt"));
  EXPECT_NE(read_file(log).find("\"GET /a.txt HTTP/1.1\" 200"), std::string::npos);
}

}  // namespace
}  // namespace cork::integration
