// Connection: one client socket's state machine: read, feed the parser, ask the handler for a
// plan, hand the plan to the sender, decide what to wait for next. Deciding the response is
// the handler's (server/request_handler.h), putting it on the wire the sender's
// (server/response_sender.h).
//
// Ownership (the rule every other file relies on; the protocol is server/ownership.h):
//   * The ConnectionTable creates and destroys every Connection on the reactor thread, and is
//     the only place that closes its socket (by destroying it).
//   * With EPOLLONESHOT at most one thread works on a connection at a time. `ownership` says
//     which: while kBusy everything below the "owner" line belongs to that worker; while kIdle
//     nobody touches it; the reactor touches it only after claim_for_close().
//   * The queue carries a ConnHandle (fd + generation), never a pointer.
//
// Connection-level state machine (beside llhttp's): reading head -> discarding body (or not
// reading it at all) -> sending -> keep-alive (reading head) or close. Which bodies are read,
// and the bounds on reading them: connection.cc, "Request bodies".
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/request_parser.h"
#include "server/conn_handle.h"
#include "server/ownership.h"
#include "server/request_handler.h"
#include "server/response_sender.h"
#include "server/server_context.h"
#include "server/unique_fd.h"

namespace cork {

// Neither copyable nor movable: the connection table owns it through a unique_ptr.
class Connection {
 public:
  // What the owner wants next: wait for input, wait for output space, or be closed.
  enum class Next : std::uint8_t { kRead, kWrite, kClose };

  Connection(UniqueFd socket, ConnHandle handle, const sockaddr_storage& peer,
             const ServerContext& context, const RequestHandler& handler, std::int64_t now_ms);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // --- Any thread.
  ConnHandle handle() const { return handle_; }
  int fd() const { return socket_.get(); }
  Ownership ownership;
  // When the reactor may close this connection if it is kIdle (monotonic ms). Written by the
  // owner before it re-arms; read by the reactor only after it saw kIdle.
  std::atomic<std::int64_t> deadline_ms{0};

  // --- Owner only (a worker while kBusy; the reactor after claim_for_close()).
  // Whether the socket was added to the epoll set yet: a new connection goes to a worker
  // straight from accept and is added only when it first has to wait.
  bool in_epoll = false;
  // Reads, parses and sends until the socket would block or the connection must close.
  // Sets deadline_ms for the wait it asks for. `now_ms` is the monotonic time of the wake.
  Next serve(std::int64_t now_ms);
  // Before the socket is closed: logs an unfinished response, sends FIN after a complete
  // response and drains unread input so that close() does not turn into a reset. Idempotent.
  void prepare_close();
  // True when no request is in progress and no response is pending (safe to close on drain).
  bool between_requests() const;

 private:
  enum class State : std::uint8_t { kReading, kSending };

  bool handle_event(RequestParser::Result result);
  RequestParser::Result feed(std::string_view bytes);
  void start_response(ResponsePlan&& plan);
  // True while the body of a request whose plan discards it is being read.
  bool discarding_body() const;
  // The body went past max_discard_body, or its time ran out: a new plan that closes.
  void cut_body();
  void time_out_body();
  RequestBody body_facts() const;
  std::int64_t request_deadline_ms() const;
  RequestFacts request_facts() const;
  std::int64_t request_elapsed_ms() const;
  void finish_response();
  void log_access();
  Next wait_for_input(std::int64_t now_ms);
  void refresh_settings();

  // Immutable after construction.
  UniqueFd socket_;
  const ConnHandle handle_;
  const ServerContext& context_;
  const RequestHandler& handler_;
  sockaddr_storage peer_{};

  // --- Owner only.
  // The snapshot the current request is served with; null while idle between requests.
  std::shared_ptr<const Settings> settings_;
  std::uint64_t settings_generation_ = 0;
  std::int64_t now_ms_ = 0;        // monotonic time of the current request
  std::uint64_t send_budget_ = 0;  // file bytes this serve() call may still send
  std::uint64_t body_budget_ = 0;  // request body bytes this serve() call may still read
  State state_ = State::kReading;
  RequestParser parser_;
  ResponseSender sender_;
  std::string input_;                    // received bytes not yet consumed by the parser
  std::size_t input_pos_ = 0;            // first unconsumed byte of input_
  bool input_maybe_pending_ = true;      // the last read filled the buffer: more may be waiting
  std::int64_t request_started_ms_ = 0;  // when the first byte of the current request came
  bool response_planned_ = false;        // a plan is being sent (or waits for the request's body)
  bool response_done_ = false;           // the last response was completely sent
  std::uint64_t body_bytes_ = 0;         // of the current request's body read, chunk framing too
  bool body_over_limit_ = false;         // ... and more came than max_discard_body allows
  bool peer_closed_ = false;             // recv() returned 0: the client sent FIN
  bool socket_failed_ = false;           // recv() or send() failed (ECONNRESET and friends)
  bool close_prepared_ = false;
};

}  // namespace cork
