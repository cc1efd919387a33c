// Server: start-up wiring. Every start-up failure is one line on stderr and exit code 1.
#include "server/server.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "server/listener.h"
#include "server/reactor.h"
#include "server/server_context.h"

namespace cork {

namespace {

// Lines the access log may hold before workers start dropping them (a few MiB at most).
constexpr std::size_t kAccessLogQueueLines = 16384;

std::size_t worker_count(const Config& config) {
  if (config.threads > 0) return config.threads;
  const unsigned cpus = std::thread::hardware_concurrency();
  return cpus > 0 ? cpus : 1;
}

}  // namespace

bool check_root(const Config& config, std::string& error) {
  return make_settings(config, error) != nullptr;
}

int run_server(const Config& config, Logger& log, ConfigSource source) {
  std::string error;
  std::shared_ptr<const Settings> settings = make_settings(config, error);
  if (!settings) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  // Declared before the context and so destroyed after the reactor: its destructor writes
  // every queued line before the process exits.
  AccessLog access_log(log, kAccessLogQueueLines);
  ServerContext context(log, access_log, std::move(settings));

  UniqueFd listener;
  std::string bound;
  if (!open_listener(config.host, config.port, config.backlog, listener, bound, error)) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  ReactorOptions options;
  options.threads = worker_count(config);
  options.queue_capacity = config.queue_capacity;
  options.max_connections = config.max_connections;
  options.reload = [&context, &log, &config, source = std::move(source)](std::string& err) {
    Config fresh;
    if (!source || !source(fresh, err)) return false;
    std::shared_ptr<const Settings> next = make_settings(fresh, err);
    if (!next) return false;
    if (!log.reconfigure(fresh, err)) return false;
    if (fresh.host != config.host || fresh.port != config.port || fresh.threads != config.threads ||
        fresh.queue_capacity != config.queue_capacity ||
        fresh.max_connections != config.max_connections || fresh.backlog != config.backlog) {
      log.log(LogLevel::kWarn,
              "SIGHUP: host, port, threads, queue_capacity, max_connections "
              "and backlog keep their values until a restart");
    }
    context.publish(std::move(next));
    return true;
  };
  Reactor reactor(context, std::move(listener), options);
  if (!reactor.init(error)) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  log.log(LogLevel::kInfo, "cork {} serving {} with {} worker threads; listening on {}",
          CORK_VERSION, config.root, options.threads, bound);
  const int code = reactor.run();
  access_log.stop();  // flush
  return code;
}

}  // namespace cork
