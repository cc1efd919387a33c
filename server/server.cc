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

bool open_root(const Config& config, UniqueFd& out, std::string& error) {
  UniqueFd fd(::open(config.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    error = fmt::format("root {}: {}", config.root,
                        errno == ENOTDIR ? "not a directory" : std::strerror(errno));
    return false;
  }
  out = std::move(fd);
  return true;
}

std::size_t worker_count(const Config& config) {
  if (config.threads > 0) return config.threads;
  const unsigned cpus = std::thread::hardware_concurrency();
  return cpus > 0 ? cpus : 1;
}

}  // namespace

bool check_root(const Config& config, std::string& error) {
  UniqueFd fd;
  return open_root(config, fd, error);
}

int run_server(const Config& config, Logger& log) {
  std::string error;
  ServerContext context(log);
  if (!open_root(config, context.root, error)) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  context.index = config.index;
  context.limits.max_request_line = config.max_request_line;
  context.limits.max_header_bytes = config.max_header_bytes;
  context.limits.max_headers = config.max_headers;
  context.header_timeout_ms = std::int64_t{config.header_timeout} * 1000;
  context.keepalive_timeout_ms = std::int64_t{config.keepalive_timeout} * 1000;
  context.max_ranges = config.max_ranges;
  context.cache_control = config.cache_control;
  context.precompressed = config.precompressed;
  context.autoindex = config.autoindex;

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
  Reactor reactor(context, std::move(listener), options);
  if (!reactor.init(error)) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  log.log(LogLevel::kInfo, "cork {} serving {} with {} worker threads; listening on {}",
          CORK_VERSION, config.root, options.threads, bound);
  return reactor.run();
}

}  // namespace cork
