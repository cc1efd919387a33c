// cork's entry point: command line, configuration, then the server. Every failure before the
// server runs is one line on stderr and a non-zero exit.
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "server/config.h"
#include "server/log.h"
#include "server/probe.h"
#include "server/server.h"
#include "server/signals.h"

int main(int argc, char** argv) {
  using namespace cork;
  // Before any thread exists, so that every thread inherits the mask.
  if (!block_server_signals()) {
    fmt::print(stderr, "cork: cannot set up signals: {}\n", std::strerror(errno));
    return 1;
  }
  CommandLine cli;
  std::string error;
  if (!parse_command_line(argc, argv, cli, error)) {
    fmt::print(stderr, "cork: {}\n", error);
    return 2;
  }
  if (cli.help) {
    fmt::print("{}", usage_text());
    return 0;
  }
  if (cli.version) {
    fmt::print("cork {}\n", CORK_VERSION);
    return 0;
  }
  // A health check of a running server (HEALTHCHECK, Kubernetes probes): no config is read.
  if (!cli.probe_url.empty()) return run_probe(cli.probe_url);
  Config config;
  if (!cli.config_path.empty() && !load_config_file(cli.config_path, config, error)) {
    fmt::print(stderr, "{}\n", error);
    return 1;
  }
  if (!apply_command_line(cli, config, error)) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  if (!check_root(config, error)) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  if (!Logger::check_paths(config, error)) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  if (cli.check) {
    fmt::print("{}: configuration OK\n", cli.config_path.empty() ? "defaults" : cli.config_path);
    return 0;
  }
  // Connections are file descriptors: use the whole hard limit (as nginx's
  // worker_rlimit_nofile would), so that max_connections is not capped by a low soft limit.
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &limit);
  }
  Logger log;
  if (!log.open(config, error)) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  // SIGHUP reads the same file again and applies the same command-line overrides.
  ConfigSource source = [cli](Config& fresh, std::string& err) {
    fresh = Config{};
    if (!cli.config_path.empty() && !load_config_file(cli.config_path, fresh, err)) return false;
    return apply_command_line(cli, fresh, err);
  };
  return run_server(config, log, std::move(source));
}
