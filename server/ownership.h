// Ownership: who may touch a connection right now, as one small atomic state machine. Every
// hand-over between the reactor and the workers is one of its named operations; nothing else
// reads or writes the state.
//
//   kIdle    - armed in epoll (or new, not yet dispatched); nobody touches the connection.
//              Only the reactor moves it out of kIdle: to kBusy when an event fires
//              (claim_or_mark_pending), to kClosing when a timer expires or on drain
//              (claim_for_close).
//   kBusy    - queued for, or being served by, one worker, which owns every field.
//   kPending - an event fired after the worker re-armed epoll but before it published kIdle;
//              publish_idle() then fails and the same worker serves again (no event is lost).
//   kClosing - handed back to the reactor to be closed; nobody else touches it any more.
//
// Memory order: publish_idle() releases everything the worker wrote; the reactor's claims
// acquire it, so the next owner sees the connection as the last one left it.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>

namespace cork {

// Neither copyable nor movable (one per connection, shared by the reactor and a worker).
class Ownership {
 public:
  enum class Phase : std::uint8_t { kIdle, kBusy, kPending, kClosing };
  enum class Claim : std::uint8_t {
    kClaimed,        // was kIdle, now kBusy: the caller (the reactor) hands it to a worker
    kMarkedPending,  // a worker owns it and will serve it again before it lets go
  };

  Ownership() = default;
  Ownership(const Ownership&) = delete;
  Ownership& operator=(const Ownership&) = delete;

  // Reactor thread, on an epoll event for the connection.
  Claim claim_or_mark_pending() {
    Phase phase = phase_.load(std::memory_order_acquire);
    for (;;) {
      if (phase == Phase::kIdle) {
        // Only the reactor leaves kIdle, so nobody can change the phase under this store.
        phase_.store(Phase::kBusy, std::memory_order_relaxed);
        return Claim::kClaimed;
      }
      // kBusy: the owner re-armed and has not published kIdle yet. (kPending or kClosing
      // cannot get an event: the one-shot registration fired already.)
      assert(phase == Phase::kBusy && "event for a connection that is pending or closing");
      if (phase_.compare_exchange_weak(phase, Phase::kPending, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        return Claim::kMarkedPending;
      }
      // It became kIdle meanwhile (or the CAS failed spuriously): look again.
    }
  }

  // Reactor thread: takes an idle connection to close it (timeout, drain). False when a
  // worker owns it; then the caller must not touch it.
  bool claim_for_close() {
    if (phase_.load(std::memory_order_acquire) != Phase::kIdle) return false;
    phase_.store(Phase::kClosing, std::memory_order_relaxed);
    return true;
  }

  // Reactor thread, after a successful claim: the connection could not be handed to a worker
  // (queue full) and is closed instead.
  void abandon_claim() { phase_.store(Phase::kClosing, std::memory_order_relaxed); }

  // The owning worker, after it re-armed epoll: lets go. True when the connection is now kIdle
  // (the caller must not touch it any more); false when an event came in meanwhile: the caller
  // still owns it (kBusy again) and serves it once more.
  bool publish_idle() {
    Phase expected = Phase::kBusy;
    if (phase_.compare_exchange_strong(expected, Phase::kIdle, std::memory_order_release,
                                       std::memory_order_acquire)) {
      return true;
    }
    // kPending: only this thread may leave it, so a plain store is enough.
    phase_.store(Phase::kBusy, std::memory_order_relaxed);
    return false;
  }

  // The owning worker: hands the connection back to the reactor to be closed.
  void release_for_close() { phase_.store(Phase::kClosing, std::memory_order_release); }

  // Any thread; a snapshot (only the reactor may act on kIdle).
  Phase phase() const { return phase_.load(std::memory_order_acquire); }
  bool idle() const { return phase() == Phase::kIdle; }

 private:
  std::atomic<Phase> phase_{Phase::kIdle};
};

}  // namespace cork
