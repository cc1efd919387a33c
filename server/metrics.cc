// Metrics: counting is a few relaxed atomic adds; rendering formats the exposition text.
#include "server/metrics.h"

#include <algorithm>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

namespace cork {

Metrics::PerThread& Metrics::mine() {
  // A slot per thread, handed out once per thread for every Metrics: an index, not shared state
  // anyone reads (threads beyond kSlots share blocks, which stays correct).
  static std::atomic<std::size_t> next_slot{0};
  thread_local const std::size_t slot = next_slot.fetch_add(1, std::memory_order_relaxed) % kSlots;
  return per_thread_[slot];
}

template <typename T, typename Field>
T Metrics::sum(Field field) const {
  T total = 0;
  for (const PerThread& block : per_thread_)
    total += field(block).load(std::memory_order_relaxed);
  return total;
}

std::uint64_t Metrics::responses(std::size_t status_class) const {
  return sum<std::uint64_t>([&](const PerThread& b) -> const auto& {
    return b.responses[status_class];
  });
}
std::uint64_t Metrics::bytes_sent() const {
  return sum<std::uint64_t>([](const PerThread& b) -> const auto& { return b.bytes_sent; });
}
std::uint64_t Metrics::duration_bucket(std::size_t bucket) const {
  return sum<std::uint64_t>([&](const PerThread& b) -> const auto& {
    return b.duration_buckets[bucket];
  });
}
std::uint64_t Metrics::duration_sum_us() const {
  return sum<std::uint64_t>([](const PerThread& b) -> const auto& { return b.duration_sum_us; });
}
std::uint64_t Metrics::file_cache_hits() const {
  return sum<std::uint64_t>([](const PerThread& b) -> const auto& { return b.file_cache_hits; });
}
std::uint64_t Metrics::file_cache_misses() const {
  return sum<std::uint64_t>([](const PerThread& b) -> const auto& { return b.file_cache_misses; });
}
// The +1 and the -1 of one connection may land in different blocks, read at different moments:
// a sum read meanwhile can dip below 0 for an instant, never for long.
std::int64_t Metrics::connections_active() const {
  return std::max<std::int64_t>(
      0, sum<std::int64_t>([](const PerThread& b) -> const auto& { return b.connections_active; }));
}
std::int64_t Metrics::busy_workers() const {
  return std::max<std::int64_t>(
      0, sum<std::int64_t>([](const PerThread& b) -> const auto& { return b.busy_workers; }));
}

void Metrics::count_response(int status, std::uint64_t bytes, std::int64_t duration_us) {
  PerThread& block = mine();
  const int status_class = status / 100;
  if (status_class >= 1 && status_class <= 5) {
    block.responses[static_cast<std::size_t>(status_class)].fetch_add(1, std::memory_order_relaxed);
  }
  block.bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
  if (duration_us < 0) duration_us = 0;
  const double seconds = static_cast<double>(duration_us) / 1e6;
  std::size_t bucket = 0;
  while (bucket < kDurationBuckets.size() && seconds > kDurationBuckets[bucket])
    ++bucket;
  block.duration_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  block.duration_sum_us.fetch_add(static_cast<std::uint64_t>(duration_us),
                                  std::memory_order_relaxed);
}

std::string render_metrics(const Metrics& m, const MetricsGauges& g) {
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  auto load = [](const auto& value) { return value.load(std::memory_order_relaxed); };
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(it, "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };

  metric("cork_requests_total", "counter", "Responses sent, by status class.");
  for (int c = 1; c <= 5; ++c) {
    fmt::format_to(it, "cork_requests_total{{class=\"{}xx\"}} {}\n", c,
                   m.responses(static_cast<std::size_t>(c)));
  }
  metric("cork_sent_bytes_total", "counter", "Response bytes (heads and bodies) sent.");
  fmt::format_to(it, "cork_sent_bytes_total {}\n", m.bytes_sent());
  metric("cork_connections", "gauge",
         "Open connections: all, and those with a request in progress.");
  const auto open = load(m.connections_open);
  const auto active = m.connections_active();
  fmt::format_to(it, "cork_connections{{state=\"open\"}} {}\n", open);
  fmt::format_to(it, "cork_connections{{state=\"active\"}} {}\n", active);
  fmt::format_to(it, "cork_connections{{state=\"idle\"}} {}\n", open > active ? open - active : 0);
  metric("cork_queue_depth", "gauge", "Ready connections waiting for a worker.");
  fmt::format_to(it, "cork_queue_depth {}\n", g.queue_depth);
  metric("cork_queue_capacity", "gauge", "Capacity of the reactor-to-worker queue.");
  fmt::format_to(it, "cork_queue_capacity {}\n", g.queue_capacity);
  metric("cork_workers", "gauge", "Worker threads.");
  fmt::format_to(it, "cork_workers {}\n", g.workers);
  metric("cork_busy_workers", "gauge", "Workers serving a connection right now.");
  fmt::format_to(it, "cork_busy_workers {}\n", m.busy_workers());
  metric("cork_accept_errors_total", "counter", "accept() failures (EMFILE, ENFILE, ...).");
  fmt::format_to(it, "cork_accept_errors_total {}\n", load(m.accept_errors));
  metric("cork_rejected_total", "counter", "Connections answered 503 (limits or full queue).");
  fmt::format_to(it, "cork_rejected_total {}\n", load(m.rejected_503));
  metric("cork_access_log_dropped_total", "counter",
         "Access log lines dropped (queue full or write failed).");
  fmt::format_to(it, "cork_access_log_dropped_total {}\n", g.dropped_log_lines);
  metric("cork_error_log_dropped_total", "counter",
         "Error log lines dropped (queue full or write failed).");
  fmt::format_to(it, "cork_error_log_dropped_total {}\n", g.dropped_error_lines);
  metric("cork_file_cache_hits_total", "counter", "Open-file cache hits.");
  fmt::format_to(it, "cork_file_cache_hits_total {}\n", m.file_cache_hits());
  metric("cork_file_cache_misses_total", "counter", "Open-file cache misses.");
  fmt::format_to(it, "cork_file_cache_misses_total {}\n", m.file_cache_misses());
  metric("cork_file_cache_sheds_total", "counter",
         "Times descriptors ran out (EMFILE, ENFILE) and the open-file cache was emptied.");
  fmt::format_to(it, "cork_file_cache_sheds_total {}\n", load(m.file_cache_sheds));
  metric("cork_file_cache_descriptors", "gauge",
         "Descriptors held by cached files, files being sent included.");
  fmt::format_to(it, "cork_file_cache_descriptors {}\n", g.file_cache_descriptors);
  metric("cork_file_cache_descriptor_limit", "gauge",
         "The descriptor budget's share for the open-file cache.");
  fmt::format_to(it, "cork_file_cache_descriptor_limit {}\n", g.file_cache_descriptor_limit);
  metric("cork_compressed_cache_hits_total", "counter",
         "Responses that found the compressed copy they prefer made already.");
  fmt::format_to(it, "cork_compressed_cache_hits_total {}\n", g.compress_hits);
  metric("cork_compressed_cache_misses_total", "counter",
         "Responses that found no compressed copy (sent uncompressed; the copy was queued).");
  fmt::format_to(it, "cork_compressed_cache_misses_total {}\n", g.compress_misses);
  metric("cork_compressed_copies_total", "counter", "Compressed copies made.");
  fmt::format_to(it, "cork_compressed_copies_total {}\n", g.compress_copies_made);
  metric("cork_compressed_saved_bytes_total", "counter",
         "File bytes not sent because a compressed copy was sent instead.");
  fmt::format_to(it, "cork_compressed_saved_bytes_total {}\n", g.compress_bytes_saved);
  metric("cork_compression_seconds_total", "counter", "Time spent compressing.");
  fmt::format_to(it, "cork_compression_seconds_total {:.6f}\n", g.compress_seconds);
  metric("cork_compression_dropped_total", "counter",
         "Compressions not queued because the queue was full (the file went out uncompressed).");
  fmt::format_to(it, "cork_compression_dropped_total {}\n", g.compress_dropped);
  metric("cork_compression_failed_total", "counter",
         "Compressions given up: unreadable, changed while read, or a library error.");
  fmt::format_to(it, "cork_compression_failed_total {}\n", g.compress_failed);
  metric("cork_compressed_cache_bytes", "gauge", "Bytes of compressed copies kept in memory.");
  fmt::format_to(it, "cork_compressed_cache_bytes {}\n", g.compress_memory);
  metric("cork_request_bodies_total", "counter",
         "Request bodies, by what became of them (none is used): discarded (read and thrown "
         "away), unread (answered at once and closed: a refusal, or over max_discard_body), cut "
         "(chunked, past max_discard_body), timeout (408).");
  constexpr std::string_view kOutcomes[kBodyOutcomes] = {"discarded", "unread", "cut", "timeout"};
  for (std::size_t o = 0; o < kBodyOutcomes; ++o) {
    fmt::format_to(it, "cork_request_bodies_total{{outcome=\"{}\"}} {}\n", kOutcomes[o],
                   load(m.request_bodies[o]));
  }
  metric("cork_uptime_seconds", "gauge", "Seconds since start.");
  fmt::format_to(it, "cork_uptime_seconds {:.3f}\n", g.uptime_seconds);

  metric("cork_request_duration_seconds", "histogram",
         "From a request's first byte to its response's last byte.");
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < Metrics::kDurationBuckets.size(); ++b) {
    cumulative += m.duration_bucket(b);
    fmt::format_to(it, "cork_request_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                   Metrics::kDurationBuckets[b], cumulative);
  }
  cumulative += m.duration_bucket(Metrics::kDurationBuckets.size());
  fmt::format_to(it, "cork_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  fmt::format_to(it, "cork_request_duration_seconds_sum {:.6f}\n",
                 static_cast<double>(m.duration_sum_us()) / 1e6);
  fmt::format_to(it, "cork_request_duration_seconds_count {}\n", cumulative);
  return std::string(out.data(), out.size());
}

}  // namespace cork
