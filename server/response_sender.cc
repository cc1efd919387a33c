// ResponseSender: the sending half of a connection. Why each number below is what it is:
// tests/bench/PERFORMANCE.md ("Sending").
#include "server/response_sender.h"

#include <sys/uio.h>

#include <algorithm>
#include <utility>

#include "server/io.h"

namespace cork {

namespace {

// One sendfile() call sends at most this much (PERFORMANCE.md: chunk size).
constexpr std::uint64_t kSendfileChunk = 512 * 1024;
// Above kLargeBody, the socket is fed only while less than this is queued unsent
// (TCP_NOTSENT_LOWAT; PERFORMANCE.md: low-water mark).
constexpr int kLargeBodyNotsentLowat = 512 * 1024;
constexpr std::uint64_t kLargeBody = 1024 * 1024;

ResponseSender::Result from_io(const IoResult& r) {
  return r.status == IoResult::Status::kWouldBlock ? ResponseSender::Result::kBlocked
                                                   : ResponseSender::Result::kFailed;
}

}  // namespace

void ResponseSender::start(ResponsePlan&& plan) {
  plan_ = std::move(plan);
  active_ = true;
  sent_ = 0;
  piece_ = 0;
  piece_pos_ = 0;
  piece_body_sent_ = 0;
  if (!plan_.pieces.empty()) {
    file_offset_ = plan_.pieces.front().offset;
    file_remaining_ = plan_.pieces.front().length;
  } else {
    file_offset_ = 0;
    file_remaining_ = 0;
  }
}

void ResponseSender::queue_continue() {
  continue_queued_ = true;
  continue_sent_ = 0;
}

ResponseSender::Result ResponseSender::send_continue(int socket) {
  while (continue_pending()) {
    const IoResult r =
        send_some(socket, kContinue.data() + continue_sent_, kContinue.size() - continue_sent_);
    if (!r.ok()) return from_io(r);
    continue_sent_ += r.bytes;
  }
  return Result::kDone;
}

void ResponseSender::finish() {
  active_ = false;
  continue_queued_ = false;
  continue_sent_ = 0;
  plan_.file.reset();
  plan_.page.reset();
  plan_.compressed.reset();
  plan_.file_fd = -1;
  plan_.pieces.clear();
  plan_.owned_body.clear();
  plan_.borrowed_body = {};
  plan_.head.clear();
}

void ResponseSender::release_memory() {
  finish();
  std::string().swap(plan_.head);
  std::string().swap(plan_.owned_body);
  std::vector<ResponsePlan::FilePiece>().swap(plan_.pieces);
}

std::uint64_t ResponseSender::head_bytes_sent() const {
  return std::min(sent_, plan_.head.size());
}

std::uint64_t ResponseSender::body_bytes_sent() const {
  const std::size_t head = plan_.head.size();
  return (sent_ > head ? sent_ - head : 0) + piece_body_sent_;
}

ResponseSender::Result ResponseSender::send_head_and_inline_body(int socket) {
  const std::string_view head = plan_.head;
  const std::string_view body = plan_.inline_body();
  const std::size_t total = head.size() + body.size();
  while (sent_ < total) {
    IoResult r;
    if (sent_ < head.size() && !body.empty()) {
      // Head and body in one system call: no copy of a cached body into a buffer.
      const iovec parts[2] = {
          {const_cast<char*>(head.data() + sent_), head.size() - sent_},
          {const_cast<char*>(body.data()), body.size()},
      };
      r = send_vector(socket, parts, 2);
    } else if (sent_ < head.size()) {
      r = send_some(socket, head.data() + sent_, head.size() - sent_);
    } else {
      const std::size_t at = sent_ - head.size();
      r = send_some(socket, body.data() + at, body.size() - at);
    }
    if (!r.ok()) return from_io(r);
    sent_ += r.bytes;
  }
  return Result::kDone;
}

ResponseSender::Result ResponseSender::send(int socket, std::uint64_t& budget) {
  // An interim response cut by a full socket is finished before the final one starts.
  if (const Result r = send_continue(socket); r != Result::kDone) return r;
  std::vector<ResponsePlan::FilePiece>& pieces = plan_.pieces;
  if (!pieces.empty() && !corked_ && sent_ == 0) {  // once, before the head's first byte
    // Head, part heads and file bytes leave in full segments; uncorking flushes the tail.
    // Best effort: a failure costs packet boundaries only.
    (void)set_cork(socket, true);
    corked_ = true;
    if (file_remaining_ > kLargeBody && !notsent_lowat_set_) {
      (void)set_notsent_lowat(socket, kLargeBodyNotsentLowat);
      notsent_lowat_set_ = true;
    }
  }
  if (const Result r = send_head_and_inline_body(socket); r != Result::kDone) return r;
  while (piece_ < pieces.size()) {
    const ResponsePlan::FilePiece& piece = pieces[piece_];
    while (piece_pos_ < piece.bytes.size()) {
      const IoResult r =
          send_some(socket, piece.bytes.data() + piece_pos_, piece.bytes.size() - piece_pos_);
      if (!r.ok()) return from_io(r);
      piece_pos_ += r.bytes;
      piece_body_sent_ += r.bytes;
    }
    while (file_remaining_ > 0) {
      const auto chunk = static_cast<std::size_t>(std::min(file_remaining_, kSendfileChunk));
      const IoResult r = send_file(socket, plan_.file_fd, &file_offset_, chunk);
      if (r.status == IoResult::Status::kClosed) return Result::kTruncated;  // file shrank
      if (!r.ok()) return from_io(r);
      if (corked_ && piece_ + 1 == pieces.size()) {
        // The head has left with the first file bytes and only file bytes follow: uncork now
        // so that each further chunk goes out as soon as it is queued (PERFORMANCE.md).
        (void)set_cork(socket, false);
        corked_ = false;
      }
      file_remaining_ -= r.bytes;
      piece_body_sent_ += r.bytes;
      budget -= std::min<std::uint64_t>(budget, r.bytes);
      if (budget == 0 && file_remaining_ > 0) return Result::kYield;
    }
    if (++piece_ < pieces.size()) {
      piece_pos_ = 0;
      file_offset_ = pieces[piece_].offset;
      file_remaining_ = pieces[piece_].length;
    }
  }
  if (corked_) {
    (void)set_cork(socket, false);
    corked_ = false;
  }
  return Result::kDone;
}

}  // namespace cork
