// Connection: the per-socket state machine a worker drives (see connection.h for ownership).
#include "server/connection.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "http/mime_types.h"
#include "http/response_head.h"
#include "http/status.h"
#include "http/target_path.h"
#include "server/clock.h"
#include "server/static_file.h"

namespace cork {

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// A fast reader could keep one worker in sendfile() for a whole 100 MiB file; after this many
// bytes the connection yields (re-armed for EPOLLOUT, which fires again at once) so that other
// connections get a turn.
constexpr std::uint64_t kSendBudgetPerWake = 8 * 1024 * 1024;
constexpr std::uint64_t kSendfileChunk = 2 * 1024 * 1024;
constexpr std::size_t kDrainLimit = 64 * 1024;

char* read_scratch() {
  // One buffer per worker thread: idle connections hold no read buffer at all.
  thread_local std::array<char, kReadChunk> scratch;
  return scratch.data();
}

void set_cork(int fd, bool on) {
  const int value = on ? 1 : 0;
  // Failure only costs packet boundaries, never correctness.
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, sizeof value);
}

std::string peer_address(const sockaddr_storage& peer) {
  char buf[INET6_ADDRSTRLEN] = "-";
  if (peer.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(peer).sin_addr, buf, sizeof buf);
  } else if (peer.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr, buf, sizeof buf);
  }
  return buf;
}

// Access-log escaping: quotes, backslashes and non-printable bytes become \" \\ \xHH.
void append_escaped(fmt::memory_buffer& out, std::string_view text) {
  if (text.empty()) {
    out.push_back('-');
    return;
  }
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\x{:02X}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

std::string_view log_time_now() {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[40];
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_second = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(cached, sizeof cached, "%d/%b/%Y:%H:%M:%S +0000", &tm);
  }
  return cached;
}

}  // namespace

Connection::Connection(UniqueFd socket, ConnHandle handle, const sockaddr_storage& peer,
                       const ServerContext& context, std::int64_t now_ms)
    : socket_(std::move(socket)),
      handle_(handle),
      context_(context),
      peer_(peer),
      parser_(context.limits),
      request_started_ms_(now_ms) {
  // The first request must arrive within header_timeout of the accept.
  deadline_ms.store(now_ms + context.header_timeout_ms, std::memory_order_relaxed);
}

Connection::~Connection() = default;

Connection::Next Connection::serve(std::int64_t now_ms) {
  bool responded = false;
  for (;;) {
    if (state_ == State::kSending) {
      switch (send_response()) {
        case SendResult::kBlocked:
        case SendResult::kYield:
          deadline_ms.store(now_ms + context_.send_timeout_ms, std::memory_order_relaxed);
          return Next::kWrite;
        case SendResult::kFailed:
          return Next::kClose;
        case SendResult::kDone:
          break;
      }
      finish_response();
      responded = true;
      if (!keep_alive_) return Next::kClose;
      state_ = State::kReading;
      request_started_ms_ = 0;
    }

    // Answer what is already buffered (pipelined requests) before reading more. A request
    // whose head just completed needs one more feed, even with no bytes, to reach its end.
    if (input_pos_ < input_.size() || parser_.in_body()) {
      const auto result = parser_.feed(std::string_view(input_).substr(input_pos_));
      input_pos_ += result.consumed;
      if (input_pos_ == input_.size()) {
        input_.clear();
        input_pos_ = 0;
      }
      if (handle_event(result)) continue;
    }

    // A short read emptied the socket; with level-triggered EPOLLONESHOT the re-arm reports
    // anything that arrived since, so the extra read that would return EAGAIN is skipped.
    if (responded && !input_maybe_pending_) return wait_for_input(now_ms);

    char* scratch = read_scratch();
    const ssize_t n = ::recv(socket_.get(), scratch, kReadChunk, 0);
    if (n > 0) {
      const auto size = static_cast<std::size_t>(n);
      input_maybe_pending_ = size == kReadChunk;
      if (request_started_ms_ == 0 && parser_.idle()) request_started_ms_ = now_ms;
      std::string_view data(scratch, size);
      const auto result = parser_.feed(data);
      data.remove_prefix(result.consumed);
      input_.assign(data);  // what the parser has not consumed yet (pipelined requests)
      input_pos_ = 0;
      if (handle_event(result)) continue;
      if (!input_maybe_pending_) return wait_for_input(now_ms);
      continue;
    }
    if (n == 0) return Next::kClose;  // the client closed; nothing left to answer
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return wait_for_input(now_ms);
    return Next::kClose;  // ECONNRESET and friends
  }
}

Connection::Next Connection::wait_for_input(std::int64_t now_ms) {
  std::int64_t deadline;
  if (parser_.in_body()) {
    deadline = now_ms + context_.header_timeout_ms;  // a body must keep coming
  } else if (!parser_.idle() || request_started_ms_ != 0) {
    // RFC 9112 leaves this to us: the whole head within header_timeout (slowloris), counted
    // from its first byte (or from the accept, for a connection's first request).
    if (request_started_ms_ == 0) request_started_ms_ = now_ms;
    deadline = request_started_ms_ + context_.header_timeout_ms;
  } else {
    if (context_.draining.load(std::memory_order_relaxed)) return Next::kClose;
    deadline = now_ms + context_.keepalive_timeout_ms;
  }
  deadline_ms.store(deadline, std::memory_order_relaxed);
  return Next::kRead;
}

bool Connection::handle_event(RequestParser::Result result) {
  switch (result.event) {
    case RequestParser::Event::kNeedMore:
      return false;
    case RequestParser::Event::kHeadComplete:
      plan_response();
      return true;
    case RequestParser::Event::kMessageComplete:
      state_ = State::kSending;
      return true;
    case RequestParser::Event::kError:
      // The byte stream cannot be trusted any more: answer and close.
      context_.log.log(LogLevel::kDebug, "{}: bad request ({}): {}", peer_address(peer_),
                       parser_.error_status(), parser_.error_reason());
      plan_error(parser_.error_status(), /*close=*/true);
      state_ = State::kSending;
      return true;
  }
  return false;
}

void Connection::plan_response() {
  const RequestHead& head = parser_.head();
  keep_alive_ = head.keep_alive && context_.keepalive_timeout_ms > 0 &&
                !context_.draining.load(std::memory_order_relaxed);
  if (head.method == Method::kOtherKnown) {
    // RFC 9110 15.5.6: 405 lists the methods the resource supports.
    plan_error(405, /*close=*/false);
    return;
  }
  const Target target = resolve_target(head.target);
  if (target.status != 0) {
    plan_error(target.status, /*close=*/target.status == 400);
    return;
  }
  FileLookup found = lookup_file(context_.root.get(), target, context_.index);
  if (found.status == 200) {
    const auto size = static_cast<std::uint64_t>(found.info.st_size);
    set_head(200, mime_type_for(found.path), size, found.info.st_mtime, {}, {});
    if (head.method == Method::kGet && size > 0) {
      file_ = std::move(found.file);
      file_offset_ = 0;
      file_remaining_ = size;
    }
    return;
  }
  if (found.status == 301) {
    const std::string_view page = status_page(301);
    set_head(301, "text/html; charset=utf-8", page.size(), -1, found.location, {});
    if (head.method == Method::kGet) out_.append(page);
    return;
  }
  if (found.status >= 500) {
    context_.log.log(LogLevel::kWarn, "{}: {} for {}", peer_address(peer_), found.status,
                     head.target);
  }
  plan_error(found.status, /*close=*/false);
}

void Connection::plan_error(int status, bool close) {
  if (close) keep_alive_ = false;
  file_.reset();
  file_remaining_ = 0;
  const std::string_view page = status_page(status);
  set_head(status, "text/html; charset=utf-8", page.size(), -1, {},
           status == 405 ? std::string_view("GET, HEAD") : std::string_view());
  // A HEAD request gets the head only; a request that failed to parse has no method to trust.
  if (parser_.head().method != Method::kHead || parser_.error_status() != 0) out_.append(page);
}

void Connection::set_head(int status, std::string_view content_type, std::uint64_t length,
                          std::time_t last_modified, std::string_view location,
                          std::string_view allow) {
  const RequestHead& request = parser_.head();
  ResponseHead head;
  head.status = status;
  head.date = http_date_now();
  head.content_type = content_type;
  head.content_length = length;
  head.last_modified = last_modified;
  head.location = location;
  head.allow = allow;
  if (!keep_alive_) {
    head.connection = "close";
  } else if (request.version_minor == 0) {
    head.connection = "keep-alive";  // RFC 9112 9.3: HTTP/1.0 keep-alive must be confirmed
  }
  thread_local fmt::memory_buffer buffer;
  buffer.clear();
  append_response_head(buffer, head);
  out_.assign(buffer.data(), buffer.size());
  out_pos_ = 0;
  head_bytes_ = buffer.size();
  status_ = status;
  body_bytes_ = 0;
  response_planned_ = true;
}

Connection::SendResult Connection::send_response() {
  const int fd = socket_.get();
  if (file_remaining_ > 0 && !corked_) {
    // Head and the first file bytes leave in full segments; uncorking flushes the tail.
    set_cork(fd, true);
    corked_ = true;
  }
  while (out_pos_ < out_.size()) {
    const ssize_t n = ::send(fd, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n > 0) {
      out_pos_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return SendResult::kBlocked;
    return SendResult::kFailed;
  }
  std::uint64_t budget = kSendBudgetPerWake;
  while (file_remaining_ > 0) {
    const std::size_t chunk = static_cast<std::size_t>(std::min(file_remaining_, kSendfileChunk));
    const ssize_t n = ::sendfile(fd, file_.get(), &file_offset_, chunk);
    if (n > 0) {
      const auto sent = static_cast<std::uint64_t>(n);
      file_remaining_ -= sent;
      body_bytes_ += sent;
      if (file_remaining_ > 0 && sent >= budget) return SendResult::kYield;
      budget -= std::min(budget, sent);
      if (budget == 0 && file_remaining_ > 0) return SendResult::kYield;
      continue;
    }
    if (n == 0) {
      // The file shrank under us: never pad, never hang; the connection is closed.
      context_.log.log(LogLevel::kWarn, "{}: file truncated while sending {}", peer_address(peer_),
                       parser_.head().target);
      return SendResult::kFailed;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return SendResult::kBlocked;
    return SendResult::kFailed;
  }
  if (corked_) {
    set_cork(fd, false);
    corked_ = false;
  }
  return SendResult::kDone;
}

void Connection::finish_response() {
  log_access();
  response_planned_ = false;
  response_done_ = true;
  file_.reset();
  out_.clear();
  out_pos_ = 0;
  head_bytes_ = 0;
}

void Connection::log_access() {
  if (!context_.log.access_enabled() || !response_planned_) return;
  const RequestHead& head = parser_.head();
  const std::uint64_t inline_body = out_pos_ > head_bytes_ ? out_pos_ - head_bytes_ : 0;
  thread_local fmt::memory_buffer line;
  line.clear();
  fmt::format_to(std::back_inserter(line), "{} - - [{}] \"", peer_address(peer_), log_time_now());
  append_escaped(line, head.method_name);
  line.push_back(' ');
  append_escaped(line, head.target);
  fmt::format_to(std::back_inserter(line), " HTTP/{}.{}\" {} {} \"", head.version_major,
                 head.version_minor, status_, body_bytes_ + inline_body);
  append_escaped(line, head.header("referer").value_or(""));
  line.append(std::string_view("\" \""));
  append_escaped(line, head.header("user-agent").value_or(""));
  line.append(std::string_view("\"\n"));
  context_.log.write_access(std::string_view(line.data(), line.size()));
}

void Connection::prepare_close() {
  const int fd = socket_.get();
  if (fd < 0) return;
  if (response_planned_) {
    log_access();  // an unfinished response (client gone, timeout, shutdown)
    response_planned_ = false;
    return;
  }
  if (!response_done_) return;
  // Lingering close, bounded: FIN after the response, then read what the client already sent
  // so that close() does not answer it with a reset that could destroy the response.
  ::shutdown(fd, SHUT_WR);
  char* scratch = read_scratch();
  std::size_t drained = 0;
  while (drained < kDrainLimit) {
    const ssize_t n = ::recv(fd, scratch, kReadChunk, MSG_DONTWAIT);
    if (n <= 0) break;
    drained += static_cast<std::size_t>(n);
  }
}

bool Connection::between_requests() const {
  return state_ == State::kReading && parser_.idle() && input_.empty();
}

}  // namespace cork
