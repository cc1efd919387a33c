// DescriptorBudget: the share-out, and setting the soft limit to it.
#include "server/descriptor_budget.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace cork {

std::string DescriptorBudget::describe() const {
  return fmt::format("descriptors {} (hard limit {}): {} connections, {} file cache, {} server",
                     limit, hard_limit, connections, file_cache, server);
}

std::string lowered_connections_warning(const DescriptorBudget& budget) {
  return fmt::format(
      "max_connections {} lowered to {}: the hard descriptor limit is {} (raise it with ulimit "
      "-Hn, LimitNOFILE= or docker run --ulimit nofile=...)",
      budget.requested_connections, budget.connections, budget.hard_limit);
}

DescriptorNeeds descriptor_needs(const Config& config, std::size_t workers) {
  DescriptorNeeds needs;
  needs.connections = config.max_connections;
  needs.workers = workers;
  needs.file_cache_entries = config.file_cache_entries;
  needs.precompressed = config.precompressed;
  return needs;
}

DescriptorBudget plan_descriptors(const DescriptorNeeds& needs, rlim_t hard) {
  DescriptorBudget b;
  // Far above anything a process can open; keeps the sums below from overflowing.
  constexpr std::size_t kUnlimited = std::size_t{1} << 40;
  b.hard_limit = hard == RLIM_INFINITY ? kUnlimited : std::min<std::size_t>(hard, kUnlimited);
  b.server = DescriptorBudget::kServerFiles + DescriptorBudget::kPerWorker * needs.workers;
  b.requested_connections = needs.connections;
  // A cached file holds its own descriptor and, with precompressed on, up to three siblings
  // (.br, .gz, .zst).
  const std::size_t cache_wanted = needs.file_cache_entries * (needs.precompressed ? 4 : 1);
  const std::size_t wanted = b.server + needs.connections + cache_wanted;
  if (wanted <= b.hard_limit) {
    b.limit = wanted;
    b.connections = needs.connections;
    b.file_cache = cache_wanted;
    return b;
  }
  b.limit = b.hard_limit;
  const std::size_t available = b.hard_limit > b.server ? b.hard_limit - b.server : 0;
  const std::size_t cache_floor = std::min(cache_wanted, DescriptorBudget::kMinFileCache);
  const std::size_t for_connections = available > cache_floor ? available - cache_floor : 0;
  b.connections = std::min(needs.connections, for_connections);
  b.file_cache = std::min(cache_wanted, available - b.connections);
  return b;
}

bool apply_descriptor_budget(const DescriptorNeeds& needs, DescriptorBudget& out,
                             std::string& error) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    error = fmt::format("getrlimit(RLIMIT_NOFILE): {}", std::strerror(errno));
    return false;
  }
  out = plan_descriptors(needs, limit.rlim_max);
  if (out.connections == 0) {
    error = fmt::format(
        "the descriptor limit ({}) cannot hold one connection beside the server's own {} files; "
        "raise it (ulimit -n, docker run --ulimit nofile=...)",
        out.hard_limit, out.server);
    return false;
  }
  limit.rlim_cur = out.limit;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    error = fmt::format("setrlimit(RLIMIT_NOFILE, {}): {}", out.limit, std::strerror(errno));
    return false;
  }
  return true;
}

}  // namespace cork
