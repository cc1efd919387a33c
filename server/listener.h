// The listening socket: non-blocking, SO_REUSEADDR, bound to host:port with the configured
// backlog.
#pragma once

#include <string>

#include "server/unique_fd.h"

namespace cork {

// Opens the listening socket. On failure returns false and sets `error` to one line.
// `bound` receives "ADDR:PORT" as actually bound (port 0 resolves to the kernel's choice).
bool open_listener(const std::string& host, int port, int backlog, UniqueFd& out,
                   std::string& bound, std::string& error);

}  // namespace cork
