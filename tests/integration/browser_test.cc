// Integration test: the bundled site in a real browser. Headless Chromium (Debian's package)
// loads www/ from cork; the test checks that the page's script ran (it marks <body>) and, from
// cork's access log, that every asset the page uses came back 200. Skipped, with a message, only
// where chromium is not installed (`make test` installs it).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "integration/command_support.h"
#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"
#include "integration/temp_dir_support.h"

namespace cork::integration {
namespace {

using namespace std::chrono_literals;

const char* find_chromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return nullptr;
}

// Headless Chromium's DOM of the server's "/" after its scripts ran. Flags as the machine's own
// checks use them: no sandbox as root, no GPU, and no background network traffic (this machine
// reaches nothing but loopback).
std::optional<std::string> dump_dom(const char* chromium, const CorkProcess& server,
                                    int& exit_status) {
  const auto profile = server.dir().path() / "chromium-profile";
  const std::string command =
      std::string("timeout 60 ") + chromium +
      " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic"
      " --no-first-run --disable-background-networking --disable-component-update"
      " --disable-sync --user-data-dir=" +
      shell_quote(profile.string()) +
      " --virtual-time-budget=5000 --dump-dom http://127.0.0.1:" + std::to_string(server.port()) +
      "/ 2>/dev/null";
  return run_command(command, exit_status);
}

TEST(BrowserTest, BundledSiteRendersWithItsScriptAndEveryAsset) {
  const char* chromium = find_chromium();
  if (chromium == nullptr) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";

  CorkProcess server;
  const auto log = server.dir().path() / "access.log";
  server.set("log", "access_log", log.string());
  ASSERT_TRUE(server.start({"-r", CORK_SOURCE_DIR "/www"}));

  int exit_status = -1;
  const auto dom = dump_dom(chromium, server, exit_status);
  ASSERT_TRUE(dom.has_value()) << "cannot run chromium";
  ASSERT_EQ(exit_status, 0) << "chromium failed; output: " << dom->substr(0, 400);
  EXPECT_NE(dom->find("data-script=\"ran\""), std::string::npos)
      << "the page's script did not run; DOM: " << dom->substr(0, 2000);
  EXPECT_NE(dom->find("JavaScript ran"), std::string::npos);

  // The access log is written by its own thread: stop cork, which flushes it.
  int wait_status = 0;
  ASSERT_TRUE(server.stop(SIGTERM, wait_status));
  const std::string lines = read_file(log);
  for (const char* asset : {"/ ", "/style.css ", "/app.js ", "/cork.svg "}) {
    const std::regex served("\"GET " + std::regex_replace(asset, std::regex("\\."), "\\.") +
                            "HTTP/1\\.1\" 200 ");
    EXPECT_TRUE(std::regex_search(lines, served)) << asset << " not served 200; log:\n" << lines;
  }
  // Nothing the page asked for failed (a browser's own /favicon.ico probe aside).
  const std::regex failed("\"GET (/[^ ]*) HTTP/1\\.1\" [45][0-9][0-9] ");
  for (auto it = std::sregex_iterator(lines.begin(), lines.end(), failed);
       it != std::sregex_iterator(); ++it) {
    EXPECT_EQ((*it)[1], "/favicon.ico") << "failed request: " << it->str();
  }
}

// The bundled site compressed on the fly: once each asset's copy is made (asked for until it
// comes compressed, as a browser's earlier visit would), Chromium gets every text asset in a
// coding it asked for, decodes it (the script runs, the page renders) and cork's access log shows
// fewer body bytes than each file has.
TEST(BrowserTest, BundledSiteLoadsCompressed) {
  const char* chromium = find_chromium();
  if (chromium == nullptr) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";

  CorkProcess server;
  const auto log = server.dir().path() / "access.log";
  server.set("log", "access_log", log.string());
  ASSERT_TRUE(server.start({"-r", CORK_SOURCE_DIR "/www"}));
  const std::vector<std::pair<std::string, std::string>> assets = {{"/", "index.html"},
                                                                   {"/style.css", "style.css"},
                                                                   {"/app.js", "app.js"},
                                                                   {"/cork.svg", "cork.svg"}};
  for (const auto& [target, file] : assets) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    HttpResponse r;
    do {
      ASSERT_TRUE(fetch(server.port(),
                        get_request(target, "Accept-Encoding: gzip, deflate, br, zstd\r\n"), r));
    } while (!r.header("content-encoding") && std::chrono::steady_clock::now() < deadline &&
             (std::this_thread::sleep_for(10ms), true));
    ASSERT_TRUE(r.header("content-encoding")) << target << " never came compressed";
  }

  int exit_status = -1;
  const auto dom = dump_dom(chromium, server, exit_status);
  ASSERT_TRUE(dom.has_value()) << "cannot run chromium";
  ASSERT_EQ(exit_status, 0) << "chromium failed; output: " << dom->substr(0, 400);
  EXPECT_NE(dom->find("data-script=\"ran\""), std::string::npos)
      << "the compressed script did not run; DOM: " << dom->substr(0, 2000);

  int wait_status = 0;
  ASSERT_TRUE(server.stop(SIGTERM, wait_status));
  const std::string lines = read_file(log);
  // Chromium's requests: the last line for each asset (after the warm-up's).
  for (const auto& [target, file] : assets) {
    const std::regex line_re("\"GET " + std::regex_replace(target, std::regex("\\."), "\\.") +
                             " HTTP/1\\.1\" 200 ([0-9]+) [^\\n]*Chrome");
    std::smatch m;
    std::string::const_iterator from = lines.begin();
    std::string bytes;
    while (std::regex_search(from, lines.end(), m, line_re)) {
      bytes = m[1];
      from = m.suffix().first;
    }
    ASSERT_FALSE(bytes.empty()) << target << ": no 200 to Chromium in the log:\n" << lines;
    const auto size =
        std::filesystem::file_size(std::filesystem::path(CORK_SOURCE_DIR "/www") / file);
    EXPECT_LT(std::stoull(bytes), size) << target << " went to Chromium uncompressed";
  }
}

}  // namespace
}  // namespace cork::integration
