// Settings: built from a validated Config; the root is opened here.
#include "server/settings.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace cork {

std::int64_t Settings::shortest_timeout_ms() const {
  std::int64_t shortest = std::min(header_timeout_ms, send_timeout_ms);
  if (keepalive_timeout_ms > 0) shortest = std::min(shortest, keepalive_timeout_ms);
  return std::max<std::int64_t>(shortest, 1);
}

std::shared_ptr<const Settings> make_settings(const Config& config, std::string& error,
                                              std::shared_ptr<Allowance> cache_descriptors) {
  auto settings = std::make_shared<Settings>();
  settings->root.reset(::open(config.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!settings->root) {
    error = fmt::format("root {}: {}", config.root,
                        errno == ENOTDIR ? "not a directory" : std::strerror(errno));
    return nullptr;
  }
  if (config.openat2) {
    settings->open_method = probe_open_method(settings->root.get(), settings->open_method_errno);
  } else {
    settings->open_method = OpenMethod::kWalk;
  }
  settings->index = config.index;
  settings->symlinks = config.follow_symlinks;
  settings->limits.max_request_line = config.max_request_line;
  settings->limits.max_header_bytes = config.max_header_bytes;
  settings->limits.max_headers = config.max_headers;
  settings->max_discard_body = config.max_discard_body;
  settings->header_timeout_ms = config.header_timeout_ms;
  settings->keepalive_timeout_ms = config.keepalive_timeout_ms;
  settings->send_timeout_ms = config.send_timeout_ms;
  settings->max_ranges = config.max_ranges;
  settings->cache_control = config.cache_control;
  settings->precompressed = config.precompressed;
  settings->compression = config.compression;
  settings->autoindex = config.autoindex;
  settings->status_path = config.status_path;
  if (!AddressFilter::parse(config.status_allow, settings->status_allow, error)) return nullptr;
  FileCacheLimits limits;
  limits.entries = config.file_cache_entries;
  limits.memory = config.file_cache_memory;
  limits.descriptors = std::move(cache_descriptors);
  settings->files =
      std::make_unique<FileCache>(settings->root.get(), settings->symlinks, settings->precompressed,
                                  settings->cache_control, std::move(limits));
  return settings;
}

}  // namespace cork
