// What every connection needs to know about the server: the current Settings (replaced on
// SIGHUP), the logger, the access log, the counters, the clock, and whether the server is
// draining. Built once at start-up.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "server/access_log.h"
#include "server/clock_source.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/settings.h"

namespace cork {

// Neither copyable nor movable: connections keep a reference.
class ServerContext {
 public:
  ServerContext(Logger& logger, AccessLog& access, const ClockSource& time,
                std::shared_ptr<const Settings> settings)
      : log(logger), access_log(access), clock(time), settings_(std::move(settings)) {}
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // Safe to call from any thread. Cheap: callers compare generation() first and load the
  // (locked) shared_ptr only when it changed.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  std::shared_ptr<const Settings> settings() const {
    std::lock_guard lock(settings_mutex_);
    return settings_;
  }
  // Reactor thread only (on SIGHUP). Connections pick the new settings up between requests;
  // the old ones live until the last connection using them lets go (released outside the lock).
  void publish(std::shared_ptr<const Settings> settings) {
    {
      std::lock_guard lock(settings_mutex_);
      settings_.swap(settings);
    }
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }

  Logger& log;
  AccessLog& access_log;
  const ClockSource& clock;
  mutable Metrics metrics;  // counters only: updated through the const view connections hold
  std::atomic<bool> draining{false};  // set by the reactor on SIGTERM/SIGINT

 private:
  // A mutex, not std::atomic<std::shared_ptr>: libstdc++ 12's load() unlocks with a relaxed
  // store, so a load racing a store is a data race (ThreadSanitizer reports it); uncontended,
  // the mutex costs about the same.
  mutable std::mutex settings_mutex_;
  std::shared_ptr<const Settings> settings_;  // guarded by settings_mutex_
  std::atomic<std::uint64_t> generation_{1};
};

}  // namespace cork
