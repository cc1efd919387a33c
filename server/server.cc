// Server: start-up wiring. Every start-up failure is one line on stderr and exit code 1.
#include "server/server.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "pool/blocking_queue.h"
#include "server/clock_source.h"
#include "server/compressor.h"
#include "server/listener.h"
#include "server/reactor.h"
#include "server/request_handler.h"
#include "server/server_context.h"
#include "server/settings_teardown.h"
#include "server/static_file.h"

namespace cork {

namespace {

// Lines the access log may hold before workers start dropping them (a few MiB at most).
constexpr std::size_t kAccessLogQueueLines = 16384;
// Files waiting to be compressed at most; a request finding the queue full is answered
// uncompressed and its file is queued by a later request.
constexpr std::size_t kCompressorQueueJobs = 64;

// The status page's gauges: what the wiring here knows (the queue, the pool, the logs).
// Neither copyable nor movable; safe from any thread.
class ServerGauges final : public GaugeSource {
 public:
  ServerGauges(const BlockingQueue<ConnHandle>& queue, std::size_t workers,
               const AccessLog& access_log, const Logger& log, const ClockSource& clock,
               const Allowance& cache_descriptors, const Compressor& compressor)
      : queue_(queue),
        workers_(workers),
        access_log_(access_log),
        log_(log),
        clock_(clock),
        cache_descriptors_(cache_descriptors),
        compressor_(compressor),
        started_ms_(clock.monotonic_ms()) {}
  MetricsGauges gauges() const override {
    MetricsGauges g;
    g.queue_depth = queue_.size();
    g.queue_capacity = queue_.capacity();
    g.workers = workers_;
    g.dropped_log_lines = access_log_.dropped();
    g.dropped_error_lines = log_.error_dropped();
    g.uptime_seconds = static_cast<double>(clock_.monotonic_ms() - started_ms_) / 1000.0;
    g.file_cache_descriptors = cache_descriptors_.held();
    g.file_cache_descriptor_limit = cache_descriptors_.limit();
    const Compressor::Counters& c = compressor_.counters();
    auto load = [](const std::atomic<std::uint64_t>& v) {
      return v.load(std::memory_order_relaxed);
    };
    g.compress_hits = load(c.hits);
    g.compress_misses = load(c.misses);
    g.compress_copies_made = load(c.compressed);
    g.compress_bytes_saved = load(c.bytes_saved);
    g.compress_seconds = static_cast<double>(load(c.compress_us)) / 1e6;
    g.compress_dropped = load(c.dropped);
    g.compress_failed = load(c.failed);
    g.compress_memory = compressor_.memory_held();
    return g;
  }

 private:
  const BlockingQueue<ConnHandle>& queue_;
  const std::size_t workers_;
  const AccessLog& access_log_;
  const Logger& log_;
  const ClockSource& clock_;
  const Allowance& cache_descriptors_;
  const Compressor& compressor_;
  const std::int64_t started_ms_;
};

}  // namespace

std::size_t worker_count(const Config& config) {
  if (config.threads > 0) return config.threads;
  const unsigned cpus = std::thread::hardware_concurrency();
  return cpus > 0 ? cpus : 1;
}

bool check_root(const Config& config, std::string& error) {
  return make_settings(config, error) != nullptr;
}

int run_server(const Config& config, const DescriptorBudget& budget, Logger& log,
               ConfigSource source) {
  // Declared first, destroyed last: every snapshot below is handed to it when released.
  SettingsTeardown teardown;
  // The budget's file-cache share, kept by the caches of every configuration together.
  const auto cache_descriptors = std::make_shared<Allowance>(budget.file_cache);
  std::string error;
  std::shared_ptr<const Settings> settings = make_settings(config, error, cache_descriptors);
  if (!settings) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  settings = teardown.adopt(std::move(settings));
  // Declared before the context and so destroyed after the reactor: its destructor writes
  // every queued line before the process exits.
  AccessLog access_log(log, kAccessLogQueueLines);
  const SystemClock clock;
  ServerContext context(log, access_log, clock, settings);

  UniqueFd listener;
  std::string bound;
  if (!open_listener(config.host, config.port, config.backlog, listener, bound, error)) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  const std::size_t workers = worker_count(config);
  // The hand-off from the reactor to the workers; the status page shows its depth.
  BlockingQueue<ConnHandle> queue(config.queue_capacity);
  // Makes the copies compressed on the fly for every configuration (its copies are keyed by the
  // file, so a reload keeps them); stopped after the workers, which hold a pointer to it.
  Compressor compressor({config.compress_cache_size, kCompressorQueueJobs});
  const ServerGauges gauges(queue, workers, access_log, log, clock, *cache_descriptors, compressor);
  const RequestHandler handler(log, context.metrics, gauges, &compressor);

  // What the signals mean. They run on the reactor thread; the reactor knows only when.
  Reactor* running = nullptr;
  // The Settings whose file cache the reactor watches; kept alive until it is unwatched.
  std::shared_ptr<const Settings> watched;
  auto watch_file_cache = [&](std::shared_ptr<const Settings> next) {
    if (watched && watched->files->notification_fd() >= 0) {
      running->unwatch(watched->files->notification_fd());
    }
    // The replaced snapshot's cache gives its descriptors back now, off this thread; the
    // snapshot itself goes when the last request answered under it lets go.
    if (watched) teardown.retire(std::move(watched));
    watched = std::move(next);
    const int fd = watched->files->notification_fd();
    if (fd < 0) return;  // no inotify: the cache checks each hit with fstatat() instead
    std::string err;
    FileCache* files = watched->files.get();
    if (!running->watch(
            fd, [files] { files->handle_notifications(); }, err)) {
      log.log(LogLevel::kWarn, "file cache: {}", err);
    }
  };
  ReactorOptions options;
  options.threads = workers;
  options.max_connections = budget.connections;
  options.descriptor_limit = budget.limit;
  options.on_descriptors_short = [&context, &log] {
    context.metrics.file_cache_sheds.fetch_add(1, std::memory_order_relaxed);
    const std::size_t shed = context.settings()->files->shed();
    log.log_coalesced(LogLevel::kWarn,
                      "accept: out of descriptors: the file cache gave back {} files", shed);
    return shed > 0;
  };
  options.on_reload = [&] {
    // A bad new configuration is logged and the running one stays.
    std::string err;
    Config fresh;
    std::shared_ptr<const Settings> next;
    if (!source) err = "no configuration source";
    if (err.empty() && source(fresh, err) &&
        (next = make_settings(fresh, err, cache_descriptors)) && log.reconfigure(fresh, err)) {
      next = teardown.adopt(std::move(next));
      if (fresh.host != config.host || fresh.port != config.port ||
          fresh.threads != config.threads || fresh.queue_capacity != config.queue_capacity ||
          fresh.max_connections != config.max_connections || fresh.backlog != config.backlog) {
        log.log(LogLevel::kWarn,
                "SIGHUP: host, port, threads, queue_capacity, max_connections "
                "and backlog keep their values until a restart");
      }
      if (fresh.compress_cache_size != config.compress_cache_size) {
        log.log(LogLevel::kWarn,
                "SIGHUP: compress_cache_size keeps its value ({}) until a restart; files above "
                "it are not compressed",
                config.compress_cache_size);
      }
      context.publish(next);
      watch_file_cache(std::move(next));
      log.log(LogLevel::kInfo, "SIGHUP: configuration reloaded");
      return;
    }
    log.log(LogLevel::kError, "SIGHUP: configuration not reloaded: {}",
            err.empty() ? "no configuration source" : err);
  };
  options.on_reopen_logs = [&log] {
    std::string err;
    if (log.reopen(err)) {
      log.log(LogLevel::kInfo, "SIGUSR1: log files reopened");
    } else {
      log.log(LogLevel::kError, "SIGUSR1: {}", err);
    }
  };
  Reactor reactor(context, std::move(listener), queue, handler, std::move(options));
  running = &reactor;
  if (!reactor.init(error)) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  // Once for the process, before the first request: a reload keeps it (server/static_file.h).
  set_open_method(settings->open_method);
  if (settings->open_method == OpenMethod::kWalk) {
    log.log(LogLevel::kInfo,
            "files: {}; walking paths with O_NOFOLLOW instead (follow_symlinks = inside then "
            "follows no symlink)",
            settings->open_method_errno != 0
                ? fmt::format("openat2 refused ({})", std::strerror(settings->open_method_errno))
                : std::string("openat2 = off"));
  }
  watch_file_cache(std::move(settings));
  if (budget.connections_lowered()) {
    log.log(LogLevel::kWarn, "{}", lowered_connections_warning(budget));
  }
  log.log(LogLevel::kInfo, "{}", budget.describe());
  log.log(LogLevel::kInfo, "cork {} serving {} with {} worker threads; listening on {}",
          CORK_VERSION, config.root, workers, bound);
  // From here until the end no thread waits for the error log (server/log.h).
  log.start_writer();
  const int code = reactor.run();
  if (watched && watched->files->notification_fd() >= 0) {
    reactor.unwatch(watched->files->notification_fd());
  }
  access_log.stop();  // flush (its last drop report goes to the error log)
  log.stop_writer();  // flush: the shutdown lines are written before the exit
  return code;
}

}  // namespace cork
