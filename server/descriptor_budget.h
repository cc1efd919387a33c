// DescriptorBudget: how the process's descriptor limit (RLIMIT_NOFILE) is shared out, decided
// once at start-up and the one place where every kind of descriptor cork holds is registered:
//   * the server's own files (standard streams, listener, epoll, signalfd, eventfd, logs, and
//     the root and inotify descriptors of two configurations while a reload replaces one);
//   * what each worker holds for a moment while it opens a file (the O_NOFOLLOW walk's
//     directories, the file, its precompressed siblings, a listed directory);
//   * one socket per connection, up to max_connections;
//   * the open-file cache, which gets what is left, up to what its entry limit could use.
// Connections come first: the cache shrinks before max_connections does, and max_connections is
// lowered (one warning line at start-up) only when the hard limit cannot hold the connections
// and a minimal cache. A new kind of descriptor (compressed copies on disk, one root per virtual
// host) is added to DescriptorNeeds and to plan_descriptors(), nowhere else.
// The cache's share is enforced by an Allowance (server/allowance.h) that every cache built under
// the budget shares, so that the caches of successive configurations stay within it together.
#pragma once

#include <sys/resource.h>

#include <cstddef>
#include <string>

#include "server/config.h"

namespace cork {

// What the configuration asks for. Copyable value.
struct DescriptorNeeds {
  std::size_t connections = 0;         // max_connections
  std::size_t workers = 1;             // worker threads
  std::size_t file_cache_entries = 0;  // the cache's entry limit
  bool precompressed = true;           // a cached file may hold its .br, .gz and .zst too
};

// The outcome. Copyable value.
struct DescriptorBudget {
  // The server's own files (see above), a fixed reserve.
  static constexpr std::size_t kServerFiles = 32;
  // Descriptors a worker may hold at once while it opens a file.
  static constexpr std::size_t kPerWorker = 4;
  // The smallest cache worth keeping when descriptors are short: below it max_connections shrinks.
  static constexpr std::size_t kMinFileCache = 16;

  std::size_t limit = 0;       // the soft RLIMIT_NOFILE to run with; no fd number reaches it
  std::size_t hard_limit = 0;  // what the soft limit could be raised to
  std::size_t server = 0;      // kServerFiles + kPerWorker * workers
  std::size_t connections = 0;
  std::size_t requested_connections = 0;
  std::size_t file_cache = 0;  // descriptors the open-file cache may hold, its siblings included

  bool connections_lowered() const { return connections < requested_connections; }
  // "descriptors 22,400 of 1,048,576: 10,000 connections, 12,288 file cache, 40 server".
  std::string describe() const;
};

// The share-out of what `needs` would use at most under the hard limit `hard` (RLIM_INFINITY
// counts as unlimited). Pure. The soft limit to run with is what the budget needs, capped by
// `hard` (as nginx's worker_rlimit_nofile sets it): a lower one is raised, a higher one lowered,
// so that the limit itself enforces the budget and no descriptor number passes `limit`.
// `connections` is 0 when the limit cannot hold one connection beside the server's own files.
DescriptorBudget plan_descriptors(const DescriptorNeeds& needs, rlim_t hard);

// The one line that says max_connections was lowered, and how to raise the limit.
std::string lowered_connections_warning(const DescriptorBudget& budget);

// The needs of `config` with `workers` worker threads.
DescriptorNeeds descriptor_needs(const Config& config, std::size_t workers);

// Plans under the process's hard limit and sets the soft RLIMIT_NOFILE to the budget's `limit`.
// False with `error` set (one line) when the limits cannot be read or set, or cannot hold one
// connection.
bool apply_descriptor_budget(const DescriptorNeeds& needs, DescriptorBudget& out,
                             std::string& error);

}  // namespace cork
