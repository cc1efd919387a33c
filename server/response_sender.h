// ResponseSender: puts one ResponsePlan on a socket, after the interim 100 Continue when one is
// queued. Owns TCP_CORK, TCP_NOTSENT_LOWAT, the head + inline body in one system call,
// sendfile() of the file pieces in chunks, the send budget that makes a worker yield, and
// resumption after a partial write. Knows nothing of HTTP beyond the plan's bytes and the one
// interim response. The socket is borrowed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/response_plan.h"

namespace cork {

// Move-only in practice (holds a plan); one per connection, touched only by its owner.
class ResponseSender {
 public:
  enum class Result : std::uint8_t {
    kDone,       // everything sent
    kBlocked,    // the socket buffer is full: wait for EPOLLOUT
    kYield,      // the budget is spent: let other connections have a turn
    kTruncated,  // the file ended before its planned length: close, never pad
    kFailed,     // the peer is gone or the socket failed: close
  };

  // Starts sending `plan`. The previous one must be done or dropped, or not started: a plan
  // that waits for the request's body may be replaced (by a 408, or a close). A queued 100
  // Continue stays queued and goes first.
  void start(ResponsePlan&& plan);
  // Queues "HTTP/1.1 100 Continue" (RFC 9110 15.2.1) to go before the plan's head.
  void queue_continue();
  // Sends what is left of the queued 100 Continue: kDone when all of it is out (or none was
  // queued), kBlocked or kFailed as send() says them. send() calls it first too.
  Result send_continue(int socket);
  bool continue_pending() const { return continue_queued_ && continue_sent_ < kContinue.size(); }
  // Sends until done, blocked, or `budget` (file bytes, shared by every response of one wake)
  // is spent; subtracts what it sent from `budget`.
  Result send(int socket, std::uint64_t& budget);
  // Drops the plan (after kDone, or when the connection closes) and the file it holds.
  void finish();
  // Releases every buffer (an idle keep-alive connection keeps none).
  void release_memory();

  bool active() const { return active_; }
  const ResponsePlan& plan() const { return plan_; }
  // Bytes of the head and of the body that reached the socket so far.
  std::uint64_t head_bytes_sent() const;
  std::uint64_t body_bytes_sent() const;
  // Bytes of the 100 Continue that reached the socket.
  std::uint64_t continue_bytes_sent() const { return continue_sent_; }

 private:
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

  Result send_head_and_inline_body(int socket);

  ResponsePlan plan_;
  bool active_ = false;
  std::size_t sent_ = 0;       // bytes of head + inline body sent
  std::size_t piece_ = 0;      // the piece being sent
  std::size_t piece_pos_ = 0;  // bytes of pieces[piece_].bytes already sent
  off_t file_offset_ = 0;      // next file byte of the current piece
  std::uint64_t file_remaining_ = 0;
  std::uint64_t piece_body_sent_ = 0;  // body bytes of the pieces sent
  bool continue_queued_ = false;
  std::size_t continue_sent_ = 0;  // bytes of kContinue sent
  bool corked_ = false;
  bool notsent_lowat_set_ = false;  // set for a large body, kept for the connection's life
};

}  // namespace cork
