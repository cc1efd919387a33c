// ResponseSender: puts one ResponsePlan on a socket. Owns TCP_CORK, TCP_NOTSENT_LOWAT, the
// head + inline body in one system call, sendfile() of the file pieces in chunks, the send
// budget that makes a worker yield, and resumption after a partial write. Knows nothing of
// HTTP beyond the plan's bytes. The socket is borrowed.
#pragma once

#include <cstddef>
#include <cstdint>

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

  // Starts sending `plan` (the previous one must be done or dropped).
  void start(ResponsePlan&& plan);
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

 private:
  Result send_head_and_inline_body(int socket);

  ResponsePlan plan_;
  bool active_ = false;
  std::size_t sent_ = 0;       // bytes of head + inline body sent
  std::size_t piece_ = 0;      // the piece being sent
  std::size_t piece_pos_ = 0;  // bytes of pieces[piece_].bytes already sent
  off_t file_offset_ = 0;      // next file byte of the current piece
  std::uint64_t file_remaining_ = 0;
  std::uint64_t piece_body_sent_ = 0;  // body bytes of the pieces sent
  bool corked_ = false;
  bool notsent_lowat_set_ = false;  // set for a large body, kept for the connection's life
};

}  // namespace cork
