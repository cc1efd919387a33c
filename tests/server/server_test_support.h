// Shared pieces of the server/ unit tests: a temporary document root, a fake clock and fixed
// gauges, so that the handler, the sender and the connection are tested without the binary,
// without a listener and without waiting.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "integration/temp_dir_support.h"
#include "server/clock_source.h"
#include "server/config.h"
#include "server/metrics.h"
#include "server/settings.h"
#include "server/unique_fd.h"

namespace cork::testing {

// A temporary document root (the integration tests' TempDir).
using TempRoot = integration::TempDir;

// A connected, non-blocking AF_UNIX stream pair: `server` for the code under test, `client` for
// the test.
struct SocketPair {
  SocketPair();
  UniqueFd server;
  UniqueFd client;
};

// Everything readable from `fd` right now (non-blocking).
std::string receive_available(int fd);

// Time stands still until the test moves it. Safe to read from any thread, moved by the test.
class FakeClock final : public ClockSource {
 public:
  std::int64_t monotonic_ms() const override { return monotonic_; }
  std::time_t wall_seconds() const override { return wall_; }
  void advance_ms(std::int64_t ms) { monotonic_ += ms; }

  std::int64_t monotonic_ = 1'000'000;
  std::time_t wall_ = 1'750'000'000;
};

// Gauges with fixed values. Copyable.
class FixedGauges final : public GaugeSource {
 public:
  MetricsGauges gauges() const override {
    MetricsGauges g;
    g.queue_depth = 3;
    g.queue_capacity = 64;
    g.workers = 2;
    return g;
  }
};

// Settings for `root` with `config`'s other keys; fails the test when they cannot be made.
std::shared_ptr<const Settings> settings_for(const TempRoot& root, Config config = {});

// A loopback sockaddr for RequestFacts.peer.
sockaddr_storage loopback_peer();

}  // namespace cork::testing
