// Connection: the per-socket state machine a worker drives (see connection.h for ownership).
// It reads and parses; the handler decides, the sender sends. Why the numbers below are what
// they are: tests/bench/PERFORMANCE.md ("Connections").
//
// Request bodies. No method cork answers uses one, so a body is read only to reach the next
// request on the connection, and what that may cost is bounded (as nginx discards bodies and
// lingers on close). The handler decides which bodies are read (ResponsePlan::request_body):
//   * Not read at all: a refused method's (405) or a refusal that closes, a Content-Length over
//     max_discard_body, a chunked body whose client waits for 100 Continue. The answer goes out
//     at once with Connection: close (RFC 9112 9.6); prepare_close() then drains, bounded, what
//     the client sent meanwhile, so that the close does not become a reset that destroys it.
//   * Read and thrown away before the answer, keep-alive allowed: a Content-Length within
//     max_discard_body, or a chunked body while it stays within it (chunk framing counted, so
//     one-byte chunks or long extensions cost what they send). A chunked body that goes past
//     the limit is cut: answered at once and closed.
//   * The whole request, head and body, is due within header_timeout of its first byte: a body
//     still coming then gets a 408 and the close (RFC 9110 15.5.9), however steadily it comes.
//   * One wake reads at most kBodyBudgetPerWake bytes of body, then yields to the others.
//   * 100 Continue only for a body that will be read (RFC 9110 10.1.1), sent by the sender, so
//     that a partial write is finished before anything else goes out.
#include "server/connection.h"

#include <algorithm>
#include <array>
#include <iterator>

#include <fmt/format.h>

#include "server/access_line.h"
#include "server/clock.h"
#include "server/io.h"

namespace cork {

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// After this many response body bytes in one wake the connection yields so that others get a
// turn.
constexpr std::uint64_t kSendBudgetPerWake = 8 * 1024 * 1024;
// The same for request body bytes, read only to be thrown away: four reads.
constexpr std::uint64_t kBodyBudgetPerWake = 4 * kReadChunk;
constexpr std::size_t kDrainLimit = 64 * 1024;
// Pipelined responses one worker sends for one connection before it lets the others have a turn.
constexpr int kResponsesPerWake = 32;

char* read_scratch() {
  // One buffer per worker thread: idle connections hold no read buffer at all.
  thread_local std::array<char, kReadChunk> scratch;
  return scratch.data();
}

}  // namespace

Connection::Connection(UniqueFd socket, ConnHandle handle, const sockaddr_storage& peer,
                       const ServerContext& context, const RequestHandler& handler,
                       std::int64_t now_ms)
    : socket_(std::move(socket)),
      handle_(handle),
      context_(context),
      handler_(handler),
      peer_(peer),
      settings_(context.settings()),
      settings_generation_(context.generation()),
      parser_(settings_->limits),
      request_started_ms_(now_ms) {
  // The first request must arrive within header_timeout of the accept.
  deadline_ms.store(now_ms + settings_->header_timeout_ms, std::memory_order_relaxed);
}

Connection::~Connection() = default;

void Connection::refresh_settings() {
  // Between requests only: one request is served under one set of settings.
  if (settings_ && context_.generation() == settings_generation_) return;
  settings_generation_ = context_.generation();
  settings_ = context_.settings();
  parser_.set_limits(settings_->limits);
}

Connection::Next Connection::serve(std::int64_t now_ms) {
  bool responded = false;
  int responses_this_wake = 0;
  send_budget_ = kSendBudgetPerWake;
  body_budget_ = kBodyBudgetPerWake;
  now_ms_ = now_ms;
  if (state_ == State::kReading && parser_.idle()) refresh_settings();
  for (;;) {
    if (state_ == State::kSending) {
      switch (sender_.send(socket_.get(), send_budget_)) {
        case ResponseSender::Result::kBlocked:
        case ResponseSender::Result::kYield:
          deadline_ms.store(now_ms + settings_->send_timeout_ms, std::memory_order_relaxed);
          return Next::kWrite;
        case ResponseSender::Result::kTruncated:
          // Never pad, never hang: the connection is closed.
          context_.log.log_coalesced(LogLevel::kWarn, "{}: file truncated while sending {}",
                                     peer_address(peer_), parser_.head().target);
          return Next::kClose;
        case ResponseSender::Result::kFailed:
          return Next::kClose;
        case ResponseSender::Result::kDone:
          break;
      }
      const bool keep_alive = sender_.plan().keep_alive;
      finish_response();
      responded = true;
      if (!keep_alive) return Next::kClose;
      state_ = State::kReading;
      request_started_ms_ = 0;
      now_ms = now_ms_ = context_.clock.monotonic_ms();
      if (++responses_this_wake >= kResponsesPerWake &&
          (input_pos_ < input_.size() || input_maybe_pending_)) {
        // Fairness: a client pipelining without end would keep this worker forever. Yield;
        // EPOLLOUT on a socket with room fires at once and brings the buffered requests back
        // (EPOLLIN would not: they are already read).
        deadline_ms.store(now_ms + settings_->send_timeout_ms, std::memory_order_relaxed);
        return Next::kWrite;
      }
    }

    if (discarding_body()) {
      // The 100 Continue the plan asked for goes out whole before the body is read.
      const ResponseSender::Result sent = sender_.send_continue(socket_.get());
      if (sent == ResponseSender::Result::kFailed) {
        socket_failed_ = true;
        return Next::kClose;
      }
      if (sent == ResponseSender::Result::kBlocked) {
        deadline_ms.store(request_deadline_ms(), std::memory_order_relaxed);
        return Next::kWrite;
      }
      if (now_ms >= request_deadline_ms()) {
        time_out_body();
        continue;
      }
      if (body_over_limit_) {
        cut_body();
        continue;
      }
      if (body_budget_ == 0) {
        // Fairness, as after kResponsesPerWake: what is left in the socket brings the
        // connection back through EPOLLIN at once; bytes already read need EPOLLOUT.
        deadline_ms.store(request_deadline_ms(), std::memory_order_relaxed);
        return input_pos_ < input_.size() ? Next::kWrite : Next::kRead;
      }
    }

    // Answer what is already buffered (pipelined requests) before reading more. A request
    // whose head just completed needs one more feed, even with no bytes, to reach its end.
    if (input_pos_ < input_.size() || parser_.in_body()) {
      if (request_started_ms_ == 0) request_started_ms_ = now_ms;  // a pipelined request
      const auto result = feed(std::string_view(input_).substr(input_pos_));
      input_pos_ += result.consumed;
      if (input_pos_ == input_.size()) {
        input_.clear();
        input_pos_ = 0;
      }
      if (handle_event(result)) continue;
      if (discarding_body() && (body_over_limit_ || body_budget_ == 0)) continue;
    }

    // A short read emptied the socket; with level-triggered EPOLLONESHOT the re-arm reports
    // anything that arrived since, so the extra read that would return EAGAIN is skipped.
    if (responded && !input_maybe_pending_) return wait_for_input(now_ms);

    char* scratch = read_scratch();
    const IoResult r = recv_some(socket_.get(), scratch, kReadChunk);
    switch (r.status) {
      case IoResult::Status::kOk: {
        input_maybe_pending_ = r.bytes == kReadChunk;
        if (request_started_ms_ == 0 && parser_.idle()) request_started_ms_ = now_ms;
        std::string_view data(scratch, r.bytes);
        const auto result = feed(data);
        data.remove_prefix(result.consumed);
        input_.assign(data);  // what the parser has not consumed yet (pipelined requests)
        input_pos_ = 0;
        if (handle_event(result)) continue;
        if (discarding_body() && body_over_limit_) continue;
        if (!input_maybe_pending_) return wait_for_input(now_ms);
        continue;
      }
      case IoResult::Status::kClosed:
        peer_closed_ = true;
        return Next::kClose;  // the client closed; nothing left to answer
      case IoResult::Status::kWouldBlock:
        return wait_for_input(now_ms);
      case IoResult::Status::kError:
        socket_failed_ = true;
        return Next::kClose;  // ECONNRESET and friends
    }
  }
}

Connection::Next Connection::wait_for_input(std::int64_t now_ms) {
  // Draining, with nothing of a request received (an idle keep-alive connection, or a new one
  // whose first bytes have not come): nothing to finish, close now.
  if (context_.draining.load(std::memory_order_relaxed) && between_requests()) return Next::kClose;
  std::int64_t deadline;
  if (!parser_.idle() || request_started_ms_ != 0) {
    // RFC 9112 leaves this to us: the whole request, head and a body being discarded alike,
    // within header_timeout (slowloris, a trickling body), counted from its first byte (or from
    // the accept, for a connection's first request). Never restarted by more bytes.
    if (request_started_ms_ == 0) request_started_ms_ = now_ms;
    deadline = request_started_ms_ + settings_->header_timeout_ms;
  } else {
    deadline = now_ms + settings_->keepalive_timeout_ms;
    // An idle keep-alive connection keeps no buffers: 10,000 of them should cost little more
    // than their sockets (PERFORMANCE.md: idle connections).
    if (input_.empty()) std::string().swap(input_);
    if (!sender_.active()) sender_.release_memory();
    if (parser_.idle()) parser_.release_memory();
    // Nor a Settings snapshot: after a reload the replaced one (its root, file cache and
    // inotify instance) must not live on in idle connections. The next request takes the
    // current one (refresh_settings()).
    settings_.reset();
  }
  deadline_ms.store(deadline, std::memory_order_relaxed);
  return Next::kRead;
}

RequestFacts Connection::request_facts() const {
  RequestFacts facts;
  facts.peer = &peer_;
  facts.now_ms = now_ms_;
  facts.wall = context_.clock.wall_seconds();
  facts.date = http_date_at(facts.wall);
  facts.keep_alive_allowed =
      settings_->keepalive_timeout_ms > 0 && !context_.draining.load(std::memory_order_relaxed);
  facts.body = body_facts();
  return facts;
}

RequestBody Connection::body_facts() const {
  if (!parser_.has_body()) return RequestBody::kNone;
  const std::uint64_t limit = settings_->max_discard_body;
  if (body_over_limit_) return RequestBody::kTooLarge;
  if (parser_.chunked()) return limit > 0 ? RequestBody::kChunked : RequestBody::kTooLarge;
  return parser_.content_length() <= limit ? RequestBody::kFits : RequestBody::kTooLarge;
}

std::int64_t Connection::request_deadline_ms() const {
  return request_started_ms_ + settings_->header_timeout_ms;
}

bool Connection::discarding_body() const {
  return state_ == State::kReading && response_planned_ && parser_.in_body() && parser_.has_body();
}

RequestParser::Result Connection::feed(std::string_view bytes) {
  if (!discarding_body()) return parser_.feed(bytes);
  // Never more than max_discard_body in all: the parser is given only what the limit allows,
  // and a body that still goes on after that is over it.
  const std::uint64_t limit = settings_->max_discard_body;
  const std::uint64_t room = limit > body_bytes_ ? limit - body_bytes_ : 0;
  const bool capped = bytes.size() > room;
  if (capped) bytes = bytes.substr(0, static_cast<std::size_t>(room));
  const RequestParser::Result result = parser_.feed(bytes);
  body_bytes_ += result.consumed;
  body_budget_ -= std::min<std::uint64_t>(body_budget_, result.consumed);
  if (capped && result.event == RequestParser::Event::kNeedMore) body_over_limit_ = true;
  return result;
}

void Connection::cut_body() {
  // Planned again as a body too large to read: the answer goes out now and closes.
  context_.metrics.count_body(BodyOutcome::kCut);
  start_response(handler_.handle(parser_.head(), *settings_, request_facts()));
  state_ = State::kSending;
}

void Connection::time_out_body() {
  context_.metrics.count_body(BodyOutcome::kTimeout);
  start_response(handler_.refuse_timed_out(parser_.head(), request_facts()));
  state_ = State::kSending;
}

bool Connection::handle_event(RequestParser::Result result) {
  switch (result.event) {
    case RequestParser::Event::kNeedMore:
      return false;
    case RequestParser::Event::kHeadComplete: {
      body_bytes_ = 0;
      body_over_limit_ = false;
      start_response(handler_.handle(parser_.head(), *settings_, request_facts()));
      const ResponsePlan& plan = sender_.plan();
      if (plan.request_body == ResponsePlan::Body::kUnread) {
        // Sent at once; the body is never read (see "Request bodies" above).
        context_.metrics.count_body(BodyOutcome::kUnread);
        state_ = State::kSending;
      } else if (plan.expect_continue) {
        sender_.queue_continue();  // sent before the body is read, at the top of serve()'s loop
      }
      return true;
    }
    case RequestParser::Event::kMessageComplete:
      if (sender_.plan().request_body == ResponsePlan::Body::kDiscard) {
        context_.metrics.count_body(BodyOutcome::kDiscarded);
      }
      state_ = State::kSending;
      return true;
    case RequestParser::Event::kError:
      // The byte stream cannot be trusted any more: answer and close.
      context_.log.log(LogLevel::kDebug, "{}: bad request ({}): {}", peer_address(peer_),
                       parser_.error_status(), parser_.error_reason());
      start_response(
          handler_.refuse_malformed(parser_.error_status(), parser_.head(), request_facts()));
      state_ = State::kSending;
      return true;
  }
  return false;
}

void Connection::start_response(ResponsePlan&& plan) {
  if (!response_planned_) {
    context_.metrics.add_active(1);
  }
  response_planned_ = true;
  sender_.start(std::move(plan));
}

std::int64_t Connection::request_elapsed_ms() const {
  return request_started_ms_ > 0 && now_ms_ >= request_started_ms_ ? now_ms_ - request_started_ms_
                                                                   : 0;
}

void Connection::finish_response() {
  log_access();
  context_.metrics.count_response(
      sender_.plan().status,
      sender_.continue_bytes_sent() + sender_.head_bytes_sent() + sender_.body_bytes_sent(),
      request_elapsed_ms() * 1000);
  context_.metrics.add_active(-1);
  response_planned_ = false;
  response_done_ = true;
  sender_.finish();
}

void Connection::log_access() {
  if (!context_.access_log.enabled() || !response_planned_) return;
  const RequestHead& head = parser_.head();
  const std::string peer = peer_address(peer_);
  AccessRecord record;
  record.peer = peer;
  record.time = clf_time_at(context_.clock.wall_seconds());
  record.method = head.method_name;
  record.target = head.target;
  record.version_major = head.version_major;
  record.version_minor = head.version_minor;
  record.status = sender_.plan().status;
  record.body_bytes = sender_.body_bytes_sent();
  record.referer = head.header("referer").value_or("");
  record.user_agent = head.header("user-agent").value_or("");
  record.elapsed_ms = request_elapsed_ms();
  thread_local fmt::memory_buffer line;
  line.clear();
  append_access_line(line, record);
  context_.access_log.submit(std::string(line.data(), line.size()));
}

void Connection::prepare_close() {
  if (close_prepared_) return;
  close_prepared_ = true;
  const int fd = socket_.get();
  if (fd < 0) return;
  if (discarding_body() && !peer_closed_ && !socket_failed_) {
    // The body did not come in time (the reactor's timer; or the forced close at the end of a
    // shutdown): RFC 9110 15.5.9, a 408 before the close, if it fits into the socket now.
    // Nothing of the planned answer was sent; a 100 Continue cut short is finished first.
    now_ms_ = context_.clock.monotonic_ms();
    time_out_body();
    std::uint64_t no_file_bytes = 0;
    if (sender_.send(fd, no_file_bytes) == ResponseSender::Result::kDone) finish_response();
  }
  if (response_planned_) {
    // An unfinished response (client gone, timeout, shutdown): its duration runs to now, not
    // to the last wake (a send_timeout close comes from the reactor, long after it).
    now_ms_ = context_.clock.monotonic_ms();
    log_access();
    context_.metrics.add_active(-1);
    response_planned_ = false;
    sender_.finish();
    return;
  }
  if (!response_done_ || peer_closed_) return;
  // The FIN is sent by the thread that finished the response, not by the reactor's close
  // (PERFORMANCE.md: FIN from the worker).
  (void)shutdown_write(fd);
  // A client that said Connection: close and whose bytes were all read has nothing more in
  // flight: the FIN is all. Otherwise (unread input, a body or a request that failed half-way)
  // linger, bounded, as nginx's lingering_close does: read what the client already sent so
  // that close() does not answer it with a reset that could destroy the response.
  const bool may_send_more =
      !input_.empty() || input_maybe_pending_ || parser_.in_body() || parser_.error_status() != 0;
  if (!may_send_more) return;
  char* scratch = read_scratch();
  std::size_t drained = 0;
  while (drained < kDrainLimit) {
    const IoResult r = recv_some(fd, scratch, kReadChunk, MSG_DONTWAIT);
    if (!r.ok()) break;
    drained += r.bytes;
  }
}

bool Connection::between_requests() const {
  return state_ == State::kReading && parser_.idle() && input_.empty();
}

}  // namespace cork
