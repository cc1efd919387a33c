// Settings: the part of the configuration that a running server uses per request and that
// SIGHUP may replace (root, index, limits, timeouts, caching switches). An immutable value once
// published: on SIGHUP server.cc's reload (on the reactor thread) builds a new one and publishes
// it through ServerContext; a connection takes the snapshot when a request starts and lets go
// of it when it waits idle between requests, so that a replaced one (its root, its file cache
// and their descriptors) is freed once the requests under it have been answered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "http/request_parser.h"
#include "server/address_filter.h"
#include "server/allowance.h"
#include "server/config.h"
#include "server/file_cache.h"
#include "server/static_file.h"
#include "server/unique_fd.h"

namespace cork {

// Move-only (owns the root directory descriptor); shared read-only through shared_ptr<const>.
struct Settings {
  UniqueFd root;  // O_PATH | O_DIRECTORY descriptor of the document root
  std::string index = "index.html";
  SymlinkPolicy symlinks = SymlinkPolicy::kInside;
  // What make_settings found (the `openat2` key, then a probe on the root); server.cc applies
  // it with set_open_method() at start-up. open_method_errno: the probe's ENOSYS or EPERM, 0
  // when the key chose the walk or openat2 works.
  OpenMethod open_method = OpenMethod::kOpenat2;
  int open_method_errno = 0;
  ParserLimits limits;
  // The longest request body read and thrown away before the answer (server/connection.cc).
  std::uint64_t max_discard_body = 64 * 1024;
  // The whole request, head and discarded body, within this of its first byte.
  std::int64_t header_timeout_ms = 10'000;
  std::int64_t keepalive_timeout_ms = 15'000;  // 0 = no keep-alive
  // A connection waiting to send that makes no progress for this long is closed.
  std::int64_t send_timeout_ms = 60'000;
  std::size_t max_ranges = 64;
  std::string cache_control;  // empty = no Cache-Control field
  bool precompressed = true;
  CompressionPolicy compression;  // what is compressed on the fly (server/compressor.h)
  bool autoindex = false;
  std::string status_path;  // empty = no status page
  AddressFilter status_allow;
  // Open files of this root; internally synchronized, so usable through a const Settings.
  std::unique_ptr<FileCache> files;

  // The shortest timeout: how often the reactor must look at a connection at the latest.
  std::int64_t shortest_timeout_ms() const;
};

// Opens the root and copies the per-request keys of `config`. Null with `error` set ("root X:
// not a directory") when the root cannot be opened. `cache_descriptors`: the descriptor budget's
// file-cache share, shared with the caches of earlier configurations (null: no share, tests).
std::shared_ptr<const Settings> make_settings(const Config& config, std::string& error,
                                              std::shared_ptr<Allowance> cache_descriptors = {});

}  // namespace cork
