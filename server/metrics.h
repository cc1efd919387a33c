// Metrics: the live counters behind the status page (Prometheus text exposition format 0.0.4).
// Counters are relaxed atomics bumped by workers and the reactor; the page is rendered from a
// snapshot of them plus the gauges (queue, workers, access log) the server's wiring hands in
// through a GaugeSource.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace cork {

// What became of a request body (cork never uses one; server/connection.cc: "Request bodies").
enum class BodyOutcome : std::uint8_t {
  kDiscarded,  // read to its end and thrown away; the connection may be kept
  kUnread,     // not read at all: answered at once, connection closed
  kCut,        // a chunked body that went past max_discard_body: answered, connection closed
  kTimeout,    // not complete within header_timeout: 408, connection closed
};
inline constexpr std::size_t kBodyOutcomes = 4;

// Neither copyable nor movable: everyone holds a reference. All members safe from any thread.
// The counters that every request bumps live in one block per thread slot, each on cache lines
// of its own, so that workers counting at once never write the same line (an atomic add on a
// line another core just wrote costs a transfer of the line; tests/bench/PERFORMANCE.md): the
// page sums the blocks. The rare counters stay single.
struct Metrics {
  // Upper bounds (seconds) of the request-duration histogram buckets; +Inf is implied.
  static constexpr std::array<double, 9> kDurationBuckets = {0.001, 0.005, 0.01, 0.05, 0.1,
                                                             0.5,   1,     5,    30};
  // Blocks of per-request counters; threads beyond this many share blocks (still correct).
  static constexpr std::size_t kSlots = 16;

  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A finished response: its status, the bytes it put on the wire and how long the request took
  // from its first byte to its last response byte.
  void count_response(int status, std::uint64_t bytes, std::int64_t duration_us);
  void count_body(BodyOutcome outcome) {
    request_bodies[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
  }
  void count_lookup(bool hit) {
    (hit ? mine().file_cache_hits : mine().file_cache_misses)
        .fetch_add(1, std::memory_order_relaxed);
  }
  // Gauges moved by +1/-1, possibly on different threads: only their sum means anything.
  void add_active(std::int64_t delta) {
    mine().connections_active.fetch_add(delta, std::memory_order_relaxed);
  }
  void add_busy(std::int64_t delta) {
    mine().busy_workers.fetch_add(delta, std::memory_order_relaxed);
  }

  // Sums over the blocks (a relaxed snapshot, like any read of these counters).
  std::uint64_t responses(std::size_t status_class) const;
  std::uint64_t bytes_sent() const;
  std::uint64_t duration_bucket(std::size_t bucket) const;
  std::uint64_t duration_sum_us() const;
  std::uint64_t file_cache_hits() const;
  std::uint64_t file_cache_misses() const;
  std::int64_t connections_active() const;
  std::int64_t busy_workers() const;

  std::atomic<std::int64_t> connections_open{0};  // reactor: accepted and not yet closed
  std::atomic<std::uint64_t> accept_errors{0};
  std::atomic<std::uint64_t> rejected_503{0};
  // Opens or accepts that failed for want of descriptors (EMFILE, ENFILE) and shed the cache.
  std::atomic<std::uint64_t> file_cache_sheds{0};
  std::array<std::atomic<std::uint64_t>, kBodyOutcomes> request_bodies{};  // by BodyOutcome

 private:
  struct alignas(64) PerThread {
    std::array<std::atomic<std::uint64_t>, 6> responses{};  // by status / 100 (1..5)
    std::atomic<std::uint64_t> bytes_sent{0};
    std::array<std::atomic<std::uint64_t>, kDurationBuckets.size() + 1> duration_buckets{};
    std::atomic<std::uint64_t> duration_sum_us{0};
    std::atomic<std::uint64_t> file_cache_hits{0};
    std::atomic<std::uint64_t> file_cache_misses{0};
    std::atomic<std::int64_t> connections_active{0};  // a request or response in progress
    std::atomic<std::int64_t> busy_workers{0};
  };
  // The calling thread's block: threads get slots in the order they first count.
  PerThread& mine();
  template <typename T, typename Field>
  T sum(Field field) const;

  std::array<PerThread, kSlots> per_thread_{};
};

// What the page shows beside the counters.
struct MetricsGauges {
  std::size_t queue_depth = 0;
  std::size_t queue_capacity = 0;
  std::size_t workers = 0;
  std::uint64_t dropped_log_lines = 0;    // access log
  std::uint64_t dropped_error_lines = 0;  // error log
  double uptime_seconds = 0;
  std::size_t file_cache_descriptors = 0;       // held by cached files (and files being sent)
  std::size_t file_cache_descriptor_limit = 0;  // the descriptor budget's share for them
  // Compression on the fly (server/compressor.h).
  std::uint64_t compress_hits = 0;
  std::uint64_t compress_misses = 0;
  std::uint64_t compress_copies_made = 0;
  std::uint64_t compress_bytes_saved = 0;
  double compress_seconds = 0;
  std::uint64_t compress_dropped = 0;
  std::uint64_t compress_failed = 0;
  std::size_t compress_memory = 0;
};

// Whoever knows the gauges (the server's wiring: the queue, the pool, the access log) and
// hands them to the status page. Interface; safe to call from any thread.
class GaugeSource {
 public:
  virtual ~GaugeSource() = default;
  virtual MetricsGauges gauges() const = 0;
};

// The whole page, "# HELP"/"# TYPE" lines included.
std::string render_metrics(const Metrics& metrics, const MetricsGauges& gauges);

}  // namespace cork
