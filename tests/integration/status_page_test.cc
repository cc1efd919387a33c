// Integration tests: the status page (status_path) in the Prometheus text format, restricted
// to allowed clients, never read from the document root, and off by default.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

// The value on the line "name value", or -1.
long long value_of(const std::string& text, const std::string& name) {
  const std::size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + name.size() + 2));
}

TEST(StatusPageTest, CountsRequestsAndServesPrometheusText) {
  CorkProcess server;
  server.put("a.txt", "a\n");
  server.set("server", "status_path", "/.cork/status");
  ASSERT_TRUE(server.start());
  HttpResponse response;
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response));
  ASSERT_TRUE(fetch(server.port(), get_request("/missing"), response));
  ASSERT_EQ(response.status, 404);

  // A response is counted just after its last byte is sent, so a client can see the answer a
  // moment before the counter moves (and with two workers the 404 may be counted before the
  // last 200): read the page until every one of them has been.
  // Each page read is itself a 2xx, counted the same way: the final page may already count
  // the earlier reads (but never itself).
  std::string text;
  int earlier_reads = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    ASSERT_TRUE(fetch(server.port(), get_request("/.cork/status"), response));
    ASSERT_EQ(response.status, 200);
    text = response.body;
    ++earlier_reads;
  } while ((value_of(text, "cork_requests_total{class=\"4xx\"}") < 1 ||
            value_of(text, "cork_requests_total{class=\"2xx\"}") < 3) &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(response.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_GE(value_of(text, "cork_requests_total{class=\"2xx\"}"), 3) << text;
  EXPECT_LE(value_of(text, "cork_requests_total{class=\"2xx\"}"), 3 + earlier_reads) << text;
  EXPECT_EQ(value_of(text, "cork_requests_total{class=\"4xx\"}"), 1);
  EXPECT_EQ(value_of(text, "cork_file_cache_hits_total"), 2);
  EXPECT_EQ(value_of(text, "cork_file_cache_misses_total"), 2);  // the first a.txt, /missing
  // This connection at least; earlier ones may not be closed yet.
  EXPECT_GE(value_of(text, "cork_connections{state=\"open\"}"), 1);
  EXPECT_GE(value_of(text, "cork_busy_workers"), 1);  // the one serving this page
  EXPECT_GE(value_of(text, "cork_request_duration_seconds_count"), 4);
  EXPECT_NE(text.find("# TYPE cork_sent_bytes_total counter"), std::string::npos);
  EXPECT_NE(text.find("cork_uptime_seconds "), std::string::npos);
  EXPECT_NE(text.find("cork_queue_capacity 4096\n"), std::string::npos);
  // With a query string too; HEAD gets the head only.
  ASSERT_TRUE(fetch(server.port(), get_request("/.cork/status?x=1"), response));
  EXPECT_EQ(response.status, 200);
  ASSERT_TRUE(fetch(server.port(), head_request("/.cork/status"), response, Method::kHead));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "");
}

TEST(StatusPageTest, ClientsOutsideStatusAllowGet404) {
  CorkProcess server;
  server.set("server", "status_path", "/status");
  server.set("server", "status_allow", "192.0.2.0/24");
  server.put("status", "a file in the root that must never be served at the status path");
  ASSERT_TRUE(server.start());
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/status"), response));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body.find("never be served"), std::string::npos);
}

TEST(StatusPageTest, OffByDefault) {
  CorkProcess server;
  ASSERT_TRUE(server.start());
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/.cork/status"), response));
  EXPECT_EQ(response.status, 404);
}

}  // namespace
}  // namespace cork::integration
