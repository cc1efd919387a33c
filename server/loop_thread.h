// LoopThread: remembers which thread runs the reactor so that reactor-only methods can assert
// it (muduo's assertInLoopThread). The check compiles away with NDEBUG.
#pragma once

#include <cassert>
#include <thread>

namespace cork {

// Neither copyable nor movable (one per reactor).
class LoopThread {
 public:
  LoopThread() = default;
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  // The calling thread becomes the loop thread (the reactor, when it starts running).
  void bind() { id_ = std::this_thread::get_id(); }
  // True when unbound (set-up before run()) or on the loop thread.
  bool here() const { return id_ == std::thread::id() || id_ == std::this_thread::get_id(); }
  void assert_here() const {
    assert(here() && "reactor-only method called off the reactor thread");
  }

 private:
  std::thread::id id_;
};

}  // namespace cork
