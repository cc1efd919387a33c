// What every connection needs to know about the server: the document root, limits, timeouts,
// the logger, and whether the server is draining. Built once at start-up; read-only afterwards
// except `draining`, which the reactor sets and workers read.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "http/request_parser.h"
#include "server/log.h"
#include "server/unique_fd.h"

namespace cork {

// Neither copyable nor movable: connections keep a reference.
struct ServerContext {
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;
  ServerContext(Logger& logger) : log(logger) {}

  UniqueFd root;  // O_PATH | O_DIRECTORY descriptor of the document root
  std::string index = "index.html";
  std::size_t max_ranges = 16;
  std::string cache_control;  // empty = no Cache-Control field
  bool precompressed = true;
  bool autoindex = false;
  ParserLimits limits;
  std::int64_t header_timeout_ms = 10'000;
  std::int64_t keepalive_timeout_ms = 15'000;
  // A connection waiting to send that makes no progress for this long is closed.
  std::int64_t send_timeout_ms = 60'000;
  Logger& log;
  std::atomic<bool> draining{false};  // set by the reactor on SIGTERM/SIGINT
};

}  // namespace cork
