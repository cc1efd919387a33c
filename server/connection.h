// Connection: one client socket and its request/response state machine.
//
// Ownership (the rule every other file relies on):
//   * The Reactor creates and destroys every Connection, and is the only thread that ever closes
//     its socket (by destroying it). Exactly one place closes a connection: Reactor::close().
//   * Because the socket is registered with EPOLLONESHOT, at most one thread works on a
//     connection at a time. `phase` says which:
//       kIdle    - armed in epoll, nobody touches it; only the reactor may move it out of kIdle
//                  (to kBusy when an event fires, to kClosing when a timer expires or on drain).
//                  A new connection starts kIdle outside the epoll set and is dispatched at
//                  once (kBusy) by the reactor that accepted it.
//       kBusy    - handed to the queue or being served by one worker; everything below the
//                  "owner" line belongs to that worker. The worker re-arms epoll first and then
//                  moves kBusy -> kIdle with a CAS; touches nothing after a successful CAS.
//       kPending - the event fired between the worker's re-arm and its CAS; the CAS fails and
//                  the same worker serves the connection again (the event is not lost).
//       kClosing - handed back to the reactor to be closed; nobody touches it any more.
//   * The queue carries a ConnHandle (fd + generation), never a pointer: a stale handle whose fd
//     number was reused by a newer connection does not match that connection's generation.
//
// Connection-level state machine (beside llhttp's): reading head -> discarding body ->
// sending head -> sending file -> keep-alive (reading head) or close.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.h"
#include "http/response_head.h"
#include "server/file_cache.h"
#include "server/server_context.h"
#include "server/static_file.h"
#include "server/unique_fd.h"

namespace cork {

// A copyable value naming one connection: the fd in the low 32 bits, a generation (never 0) in
// the high 32. Used as epoll data and as the queue item.
struct ConnHandle {
  std::uint64_t value = 0;
  static ConnHandle make(int fd, std::uint32_t generation) {
    return {static_cast<std::uint64_t>(generation) << 32 | static_cast<std::uint32_t>(fd)};
  }
  int fd() const { return static_cast<int>(value & 0xffffffffu); }
  std::uint32_t generation() const { return static_cast<std::uint32_t>(value >> 32); }
  friend bool operator==(ConnHandle a, ConnHandle b) { return a.value == b.value; }
};

// Neither copyable nor movable: the reactor's table owns it through a unique_ptr.
class Connection {
 public:
  enum class Phase : std::uint8_t { kIdle, kBusy, kPending, kClosing };
  // What the owner wants next: wait for input, wait for output space, or be closed.
  enum class Next : std::uint8_t { kRead, kWrite, kClose };

  Connection(UniqueFd socket, ConnHandle handle, const sockaddr_storage& peer,
             const ServerContext& context, std::int64_t now_ms);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // --- Any thread.
  ConnHandle handle() const { return handle_; }
  int fd() const { return socket_.get(); }
  std::atomic<Phase> phase{Phase::kIdle};
  // When the reactor may close this connection if it is kIdle (monotonic ms). Written by the
  // owner before it re-arms; read by the reactor only after it saw kIdle.
  std::atomic<std::int64_t> deadline_ms{0};

  // --- Owner only (a worker while kBusy; the reactor after it moved kIdle -> kClosing).
  // Whether the socket was added to the epoll set yet: a new connection goes to a worker
  // straight from accept and is added only when it first has to wait (Reactor::serve).
  bool in_epoll = false;
  // Reads, parses and sends until the socket would block or the connection must close.
  // Sets deadline_ms for the wait it asks for.
  Next serve(std::int64_t now_ms);
  // Before the reactor closes it: logs an unfinished response, sends FIN after a complete
  // response and drains unread input so that close() does not turn into a reset.
  void prepare_close();
  // True when no request is in progress and no response is pending (safe to close on drain).
  bool between_requests() const;

 private:
  enum class State : std::uint8_t { kReading, kSending };
  enum class SendResult : std::uint8_t { kDone, kBlocked, kYield, kFailed };

  void refresh_settings();
  bool handle_event(RequestParser::Result result);
  void plan_response();
  void plan_file(std::shared_ptr<const CachedFile> entry);
  void plan_listing(std::string_view directory, std::string_view url_path);
  void plan_error(int status, bool close, std::string_view content_range = {});
  void send_continue();
  void plan_status_page();
  std::int64_t request_elapsed_ms() const;
  // A head with the fields every response carries (status, Date, Connection).
  ResponseHead base_head(int status) const;
  // Formats `head` into out_ and resets the send position; the body pieces are set after it.
  void emit_head(const ResponseHead& head);
  void add_file_piece(std::string bytes, off_t offset, std::uint64_t length);
  SendResult send_response();
  void finish_response();
  void log_access();
  Next wait_for_input(std::int64_t now_ms);

  // Immutable after construction.
  UniqueFd socket_;
  const ConnHandle handle_;
  const ServerContext& context_;
  sockaddr_storage peer_{};

  // --- Owner only.
  std::shared_ptr<const Settings> settings_;  // the snapshot this connection serves with
  std::uint64_t settings_generation_ = 0;
  std::int64_t now_ms_ = 0;        // monotonic time of the current request
  std::uint64_t send_budget_ = 0;  // file bytes this serve() call may still send
  State state_ = State::kReading;
  RequestParser parser_;
  std::string input_;                    // received bytes not yet consumed by the parser
  std::size_t input_pos_ = 0;            // first unconsumed byte of input_
  bool input_maybe_pending_ = true;      // the last read filled the buffer: more may be waiting
  std::int64_t request_started_ms_ = 0;  // when the first byte of the current request came

  // The response being sent: out_ (the head, and an in-memory body such as an error page), then
  // the body pieces in order. A piece is some bytes from memory (a multipart part head) followed
  // by a range of the file sent with sendfile(); a plain 200 is one piece with no bytes. A
  // small file served whole is appended to out_ instead (one send()).
  struct BodyPiece {
    std::string bytes;
    off_t offset = 0;
    std::uint64_t length = 0;
  };
  std::string out_;
  std::size_t out_pos_ = 0;
  // The file the pieces come from: borrowed from the cache entry, which stays alive (and so the
  // descriptor open) until the response is finished.
  std::shared_ptr<const CachedFile> file_entry_;
  int file_fd_ = -1;
  std::vector<BodyPiece> pieces_;  // keeps its capacity across requests
  std::size_t piece_ = 0;          // the piece being sent
  std::size_t piece_pos_ = 0;      // bytes of pieces_[piece_].bytes already sent
  off_t file_offset_ = 0;          // next file byte of the current piece
  std::uint64_t file_remaining_ = 0;
  std::uint64_t body_bytes_ = 0;  // body bytes sent, for the access log
  std::uint64_t head_bytes_ = 0;
  int status_ = 0;
  bool keep_alive_ = true;
  bool corked_ = false;
  bool notsent_lowat_set_ = false;  // TCP_NOTSENT_LOWAT set for a large body (kept after it)
  bool response_planned_ = false;
  bool response_done_ = false;    // the last response was completely sent
  bool expect_continue_ = false;  // the current request waits for 100 Continue before its body
  bool peer_closed_ = false;      // recv() returned 0: the client sent FIN
};

}  // namespace cork
