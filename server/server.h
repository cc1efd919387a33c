// Server: turns a validated Config into a running reactor (root, listener, context, pool).
#pragma once

#include <functional>
#include <string>

#include "server/config.h"
#include "server/descriptor_budget.h"
#include "server/log.h"

namespace cork {

// Checks what --check checks beyond the syntax: the root is an existing directory.
bool check_root(const Config& config, std::string& error);

// The worker threads `config` asks for (threads = 0: one per CPU).
std::size_t worker_count(const Config& config);

// Produces the configuration again for SIGHUP (re-reads the file, applies the command line);
// false with `error` set when it is bad.
using ConfigSource = std::function<bool(Config& config, std::string& error)>;

// Runs the server until SIGINT/SIGTERM. Start-up failures return 1 after writing one line to
// stderr; a clean shutdown returns 0. On SIGHUP, `source` gives the new configuration: root,
// index, limits, timeouts, caching keys and log settings change for requests that follow;
// host, port, threads, queue_capacity, max_connections and backlog need a restart. `budget`
// (applied already: the soft descriptor limit is set) gives the connections and the file cache
// their descriptors.
int run_server(const Config& config, const DescriptorBudget& budget, Logger& log,
               ConfigSource source);

}  // namespace cork
