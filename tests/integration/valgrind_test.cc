// Integration test: cork under valgrind's memcheck serves a mix of requests (files from memory
// and with sendfile, ranges, errors, pipelining, the status page, an aborted download) and
// shuts down on SIGTERM with no memory error and no definite leak. Skipped, with a message,
// only where valgrind is not installed (`make test` installs it).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

using namespace std::chrono_literals;

TEST(ValgrindTest, CleanUnderMemcheckThroughShutdown) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer build: valgrind cannot run a binary built with ASan or TSan (the "
                  "plain build runs this test)";
#endif
  if (::access("/usr/bin/valgrind", X_OK) != 0) {
    GTEST_SKIP() << "valgrind is not installed (apt-get install valgrind)";
  }
  CorkProcess server;
  server.put("small.txt", "small file\n");
  server.put("big.bin", pseudo_random_bytes(300'000, 3));
  server.put("page.html", "<p>page</p>\n");
  server.put("page.html.gz", "GZ");
  server.set("server", "threads", "2");
  server.set("server", "status_path", "/status");
  server.set("log", "access_log", (server.dir().path() / "access.log").string());
  server.run_under({"/usr/bin/valgrind", "--error-exitcode=99", "--leak-check=full",
                    "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite"});
  ASSERT_TRUE(server.start());

  HttpResponse r;
  ASSERT_TRUE(fetch(server.port(), get_request("/small.txt"), r, Method::kGet, 20s));
  EXPECT_EQ(r.status, 200);
  ASSERT_TRUE(fetch(server.port(), get_request("/big.bin"), r, Method::kGet, 20s));
  EXPECT_EQ(r.body.size(), 300'000u);
  ASSERT_TRUE(fetch(server.port(), get_request("/big.bin", "Range: bytes=0-9,100-199\r\n"), r,
                    Method::kGet, 20s));
  EXPECT_EQ(r.status, 206);
  ASSERT_TRUE(fetch(server.port(), get_request("/page.html", "Accept-Encoding: gzip\r\n"), r,
                    Method::kGet, 20s));
  EXPECT_EQ(r.body, "GZ");
  ASSERT_TRUE(fetch(server.port(), get_request("/missing"), r, Method::kGet, 20s));
  EXPECT_EQ(r.status, 404);
  ASSERT_TRUE(fetch(server.port(), "BREW / HTTP/1.1\r\nHost: x\r\n\r\n", r, Method::kGet, 20s));
  EXPECT_EQ(r.status, 501);
  ASSERT_TRUE(fetch(server.port(), get_request("/status"), r, Method::kGet, 20s));
  EXPECT_EQ(r.status, 200);
  {
    RawClient pipelined;
    ASSERT_TRUE(pipelined.connect(server.port()));
    ASSERT_TRUE(pipelined.send_all(get_request("/small.txt") + head_request("/big.bin") +
                                   get_request("/small.txt")));
    ASSERT_TRUE(pipelined.read_response(r, Method::kGet, 20s));
    ASSERT_TRUE(pipelined.read_response(r, Method::kHead, 20s));
    ASSERT_TRUE(pipelined.read_response(r, Method::kGet, 20s));
    EXPECT_EQ(r.body, "small file\n");
  }
  {
    RawClient aborted;  // goes away mid-download
    ASSERT_TRUE(aborted.connect(server.port()));
    ASSERT_TRUE(aborted.send_all(get_request("/big.bin")));
    aborted.close_with_reset();
  }
  RawClient idle;  // still open at shutdown
  ASSERT_TRUE(idle.connect(server.port()));

  int status = 0;
  ASSERT_TRUE(server.stop(SIGTERM, status, 60s));
  const std::string log = server.stderr_text();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_wait_status(status) << "\n"
                                                             << log;
  EXPECT_NE(log.find("ERROR SUMMARY: 0 errors"), std::string::npos) << log;
  EXPECT_EQ(log.find("definitely lost: "), std::string::npos) << log;
  EXPECT_NE(log.find("Memcheck"), std::string::npos) << "not run under valgrind?\n" << log;
}

}  // namespace
}  // namespace cork::integration
