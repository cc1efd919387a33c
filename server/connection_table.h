// ConnectionTable: every open connection, indexed by fd, with the generation counter that makes
// handles unique. It is the only place that creates or closes a connection: close() (timeouts,
// drain, queue full, retirement by a worker, the forced close at the end of the grace period)
// prepares the close and destroys the Connection, whose UniqueFd closes the socket (which also
// takes it out of the epoll set).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "server/conn_handle.h"
#include "server/connection.h"
#include "server/loop_thread.h"
#include "server/metrics.h"
#include "server/unique_fd.h"

namespace cork {

// Neither copyable nor movable (connections and workers refer into it). Every method but
// owned() is reactor-thread only, asserted in debug builds.
class ConnectionTable {
 public:
  // `slots` is the highest fd number + 1 the table can hold; it never grows, so a worker's
  // read of its own slot never races a reallocation.
  ConnectionTable(std::size_t slots, Metrics& metrics, const LoopThread& loop);
  ConnectionTable(const ConnectionTable&) = delete;
  ConnectionTable& operator=(const ConnectionTable&) = delete;

  // A new connection for an accepted socket; null (and the socket handed back in `socket`)
  // when its fd does not fit the table.
  Connection* open(UniqueFd& socket, const sockaddr_storage& peer, const ServerContext& context,
                   const RequestHandler& handler, std::int64_t now_ms);
  // The live connection `handle` names, or null when it was closed (or its fd reused).
  Connection* find(ConnHandle handle) const;
  // Closes `connection` (prepare_close() unless its owner did it already, then destroy).
  void close(Connection& connection);
  // Closes every connection still open; returns how many there were.
  std::size_t close_all();
  // Calls fn(Connection&) for every open connection; fn may close the one it is given.
  template <class Fn>
  void for_each(Fn fn) {
    loop_.assert_here();
    for (int fd = 0; fd <= highest_fd_; ++fd) {
      if (Connection* c = slots_[static_cast<std::size_t>(fd)].get()) fn(*c);
    }
  }

  std::size_t live() const { return live_; }

  // Safe from a worker thread, for a connection that worker owns (kBusy): the reactor never
  // changes the slot of a connection that is not kIdle or kClosing-by-itself.
  Connection& owned(ConnHandle handle) const {
    return *slots_[static_cast<std::size_t>(handle.fd())];
  }

 private:
  std::vector<std::unique_ptr<Connection>> slots_;
  Metrics& metrics_;
  const LoopThread& loop_;
  std::size_t live_ = 0;
  std::uint32_t next_generation_ = 1;
  int highest_fd_ = -1;
};

}  // namespace cork
