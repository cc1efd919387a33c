// cork's entry point: command line, configuration, then the server. Every failure before the
// server runs is one line on stderr and a non-zero exit.
#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "server/config.h"
#include "server/descriptor_budget.h"
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
  // Connections and cached files are descriptors: the soft limit is set to what the budget
  // needs (up to the hard limit, as nginx's worker_rlimit_nofile would) before --check, so that
  // --check reports the budget the server would run with.
  DescriptorBudget budget;
  if (!apply_descriptor_budget(descriptor_needs(config, worker_count(config)), budget, error)) {
    fmt::print(stderr, "cork: {}\n", error);
    return 1;
  }
  if (cli.check) {
    fmt::print("{}: configuration OK; {}\n", cli.config_path.empty() ? "defaults" : cli.config_path,
               budget.describe());
    if (budget.connections_lowered()) {
      fmt::print(stderr, "cork: warning: {}\n", lowered_connections_warning(budget));
    }
    return 0;
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
  return run_server(config, budget, log, std::move(source));
}
