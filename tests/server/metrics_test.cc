// Metrics: counting by status class, the duration histogram, and the exposition text.
#include "server/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace cork {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Metrics, ShowTheFileCacheDescriptorsAndSheds) {
  Metrics m;
  m.file_cache_sheds = 2;
  MetricsGauges g;
  g.file_cache_descriptors = 17;
  g.file_cache_descriptor_limit = 9960;
  const std::string text = render_metrics(m, g);
  EXPECT_TRUE(has_line(text, "cork_file_cache_sheds_total 2")) << text;
  EXPECT_TRUE(has_line(text, "cork_file_cache_descriptors 17"));
  EXPECT_TRUE(has_line(text, "cork_file_cache_descriptor_limit 9960"));
  EXPECT_TRUE(has_line(text, "# TYPE cork_file_cache_sheds_total counter"));
}

TEST(Metrics, CountsResponsesBytesAndDurations) {
  Metrics m;
  m.count_response(200, 100, 500);       // 0.0005 s -> le 0.001
  m.count_response(206, 50, 20'000);     // 0.02 s -> le 0.05
  m.count_response(404, 10, 2'000'000);  // 2 s -> le 5
  m.count_response(503, 5, 60'000'000);  // 60 s -> +Inf
  m.connections_open = 7;
  m.add_active(2);
  MetricsGauges g;
  g.queue_depth = 3;
  g.queue_capacity = 4096;
  g.workers = 2;
  g.dropped_log_lines = 9;
  g.dropped_error_lines = 4;
  g.uptime_seconds = 1.5;
  const std::string text = render_metrics(m, g);
  EXPECT_TRUE(has_line(text, "cork_requests_total{class=\"2xx\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "cork_requests_total{class=\"4xx\"} 1"));
  EXPECT_TRUE(has_line(text, "cork_requests_total{class=\"5xx\"} 1"));
  EXPECT_TRUE(has_line(text, "cork_requests_total{class=\"3xx\"} 0"));
  EXPECT_TRUE(has_line(text, "cork_sent_bytes_total 165"));
  EXPECT_TRUE(has_line(text, "cork_connections{state=\"open\"} 7"));
  EXPECT_TRUE(has_line(text, "cork_connections{state=\"idle\"} 5"));
  EXPECT_TRUE(has_line(text, "cork_queue_depth 3"));
  EXPECT_TRUE(has_line(text, "cork_queue_capacity 4096"));
  EXPECT_TRUE(has_line(text, "cork_access_log_dropped_total 9"));
  EXPECT_TRUE(has_line(text, "cork_error_log_dropped_total 4"));
  EXPECT_TRUE(has_line(text, "cork_uptime_seconds 1.500"));
  // Cumulative buckets.
  EXPECT_TRUE(has_line(text, "cork_request_duration_seconds_bucket{le=\"0.001\"} 1"));
  EXPECT_TRUE(has_line(text, "cork_request_duration_seconds_bucket{le=\"0.05\"} 2"));
  EXPECT_TRUE(has_line(text, "cork_request_duration_seconds_bucket{le=\"5\"} 3"));
  EXPECT_TRUE(has_line(text, "cork_request_duration_seconds_bucket{le=\"30\"} 3"));
  EXPECT_TRUE(has_line(text, "cork_request_duration_seconds_bucket{le=\"+Inf\"} 4"));
  EXPECT_TRUE(has_line(text, "cork_request_duration_seconds_count 4"));
  EXPECT_TRUE(has_line(text, "cork_request_duration_seconds_sum 62.020500"));
  EXPECT_TRUE(has_line(text, "# TYPE cork_request_duration_seconds histogram"));
}

// Per-thread blocks: what several threads count is all on the page, and a gauge moved up on one
// thread and down on another (a connection served by two workers in turn) sums to its value.
TEST(Metrics, CountsFromManyThreadsAddUp) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * static_cast<int>(Metrics::kSlots) + 3; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 1000; ++i) {
        m.count_response(200, 3, 10);
        m.count_lookup(i % 4 == 0);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  std::thread([&m] { m.add_active(1); }).join();
  std::thread([&m] { m.add_active(1); }).join();
  std::thread([&m] { m.add_active(-1); }).join();
  m.connections_open = 4;
  const std::uint64_t n = 1000 * threads.size();
  EXPECT_EQ(m.responses(2), n);
  EXPECT_EQ(m.bytes_sent(), 3 * n);
  EXPECT_EQ(m.file_cache_hits(), n / 4);
  EXPECT_EQ(m.file_cache_misses(), n - n / 4);
  EXPECT_EQ(m.connections_active(), 1);
  const std::string text = render_metrics(m, MetricsGauges{});
  EXPECT_TRUE(has_line(text, "cork_requests_total{class=\"2xx\"} " + std::to_string(n))) << text;
  EXPECT_TRUE(has_line(text, "cork_connections{state=\"active\"} 1"));
  EXPECT_TRUE(has_line(text, "cork_connections{state=\"idle\"} 3"));
  EXPECT_TRUE(has_line(text, "cork_request_duration_seconds_count " + std::to_string(n)));
}

TEST(Metrics, CountsRequestBodiesByOutcome) {
  Metrics m;
  m.count_body(BodyOutcome::kDiscarded);
  m.count_body(BodyOutcome::kDiscarded);
  m.count_body(BodyOutcome::kUnread);
  m.count_body(BodyOutcome::kTimeout);
  const std::string text = render_metrics(m, MetricsGauges{});
  EXPECT_TRUE(has_line(text, "# TYPE cork_request_bodies_total counter")) << text;
  EXPECT_TRUE(has_line(text, "cork_request_bodies_total{outcome=\"discarded\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "cork_request_bodies_total{outcome=\"unread\"} 1"));
  EXPECT_TRUE(has_line(text, "cork_request_bodies_total{outcome=\"cut\"} 0"));
  EXPECT_TRUE(has_line(text, "cork_request_bodies_total{outcome=\"timeout\"} 1"));
}

}  // namespace
}  // namespace cork
