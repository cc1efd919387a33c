// ConnectionTable: creation, lookup and the one close path of connections.
#include "server/connection_table.h"

#include <algorithm>

namespace cork {

ConnectionTable::ConnectionTable(std::size_t slots, Metrics& metrics, const LoopThread& loop)
    : slots_(slots), metrics_(metrics), loop_(loop) {}

Connection* ConnectionTable::open(UniqueFd& socket, const sockaddr_storage& peer,
                                  const ServerContext& context, const RequestHandler& handler,
                                  std::int64_t now_ms) {
  loop_.assert_here();
  const int fd = socket.get();
  if (fd < 0 || static_cast<std::size_t>(fd) >= slots_.size()) return nullptr;
  const ConnHandle handle = ConnHandle::make(fd, next_generation_);
  if (++next_generation_ == 0) next_generation_ = 1;  // generation 0 never names a connection
  auto& slot = slots_[static_cast<std::size_t>(fd)];
  slot = std::make_unique<Connection>(std::move(socket), handle, peer, context, handler, now_ms);
  highest_fd_ = std::max(highest_fd_, fd);
  ++live_;
  metrics_.connections_open.fetch_add(1, std::memory_order_relaxed);
  return slot.get();
}

Connection* ConnectionTable::find(ConnHandle handle) const {
  loop_.assert_here();
  const int fd = handle.fd();
  if (fd < 0 || static_cast<std::size_t>(fd) >= slots_.size()) return nullptr;
  Connection* c = slots_[static_cast<std::size_t>(fd)].get();
  return (c != nullptr && c->handle() == handle) ? c : nullptr;
}

void ConnectionTable::close(Connection& connection) {
  loop_.assert_here();
  connection.prepare_close();  // a no-op when the worker that retired it did it already
  slots_[static_cast<std::size_t>(connection.fd())].reset();
  --live_;
  metrics_.connections_open.fetch_sub(1, std::memory_order_relaxed);
}

std::size_t ConnectionTable::close_all() {
  std::size_t closed = 0;
  for_each([&](Connection& c) {
    close(c);
    ++closed;
  });
  return closed;
}

}  // namespace cork
