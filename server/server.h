// Server: turns a validated Config into a running reactor (root, listener, context, pool).
#pragma once

#include <string>

#include "server/config.h"
#include "server/log.h"

namespace cork {

// Checks what --check checks beyond the syntax: the root is an existing directory.
bool check_root(const Config& config, std::string& error);

// Runs the server until SIGINT/SIGTERM. Start-up failures return 1 after writing one line to
// stderr; a clean shutdown returns 0.
int run_server(const Config& config, Logger& log);

}  // namespace cork
