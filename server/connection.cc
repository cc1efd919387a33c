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
#include <random>

#include <fmt/format.h>

#include "http/accept_encoding.h"
#include "http/conditional.h"
#include "http/directory_listing.h"
#include "http/entity_tag.h"
#include "http/mime_types.h"
#include "http/multipart.h"
#include "http/range.h"
#include "http/response_head.h"
#include "http/status.h"
#include "http/target_path.h"
#include "server/clock.h"
#include "server/metrics.h"
#include "server/static_file.h"

namespace cork {

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// A fast reader could keep one worker in sendfile() for a whole 100 MiB file; after this many
// bytes the connection yields (re-armed for EPOLLOUT, which fires again at once) so that other
// connections get a turn.
constexpr std::uint64_t kSendBudgetPerWake = 8 * 1024 * 1024;
// One sendfile() call sends at most this much. Measured with the early uncork in
// send_response(): 512 KiB beat 128 and 256 KiB slightly on 1 MiB files; with 2 MiB most of the
// uncork's gain was lost.
constexpr std::uint64_t kSendfileChunk = 512 * 1024;
// A large body is fed to the socket only while less than this is queued and not yet sent
// (TCP_NOTSENT_LOWAT): the socket buffer stays small and cache-warm instead of growing to
// several MiB ahead of the reader. 100 MiB over loopback, 4 connections, with the early uncork
// in send_response(): 23.9 req/s without, 29.5 with (nginx 25.2); a 1 MiB low-water mark did as
// well, 2 MiB worse. 1 MiB files gain nothing from it, so it is set only when a body above
// kLargeBody is sent, and then stays for the connection (later, smaller responses only see a
// socket buffer that holds at most 512 KiB of unsent bytes).
constexpr int kLargeBodyNotsentLowat = 512 * 1024;
constexpr std::uint64_t kLargeBody = 1024 * 1024;
constexpr std::size_t kDrainLimit = 64 * 1024;
// Pipelined responses one worker sends for one connection before it lets the others have a turn.
constexpr int kResponsesPerWake = 32;

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
  if (context_.generation() == settings_generation_) return;
  settings_generation_ = context_.generation();
  settings_ = context_.settings();
  parser_.set_limits(settings_->limits);
}

Connection::Next Connection::serve(std::int64_t now_ms) {
  bool responded = false;
  int responses_this_wake = 0;
  send_budget_ = kSendBudgetPerWake;
  now_ms_ = now_ms;
  if (state_ == State::kReading && parser_.idle()) refresh_settings();
  for (;;) {
    if (state_ == State::kSending) {
      switch (send_response()) {
        case SendResult::kBlocked:
        case SendResult::kYield:
          deadline_ms.store(now_ms + settings_->send_timeout_ms, std::memory_order_relaxed);
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
      now_ms = now_ms_ = monotonic_ms();
      if (++responses_this_wake >= kResponsesPerWake &&
          (input_pos_ < input_.size() || input_maybe_pending_)) {
        // Fairness: a client pipelining without end would keep this worker forever. Yield;
        // EPOLLOUT on a socket with room fires at once and brings the buffered requests back
        // (EPOLLIN would not: they are already read).
        deadline_ms.store(now_ms + settings_->send_timeout_ms, std::memory_order_relaxed);
        return Next::kWrite;
      }
    }

    // Answer what is already buffered (pipelined requests) before reading more. A request
    // whose head just completed needs one more feed, even with no bytes, to reach its end.
    if (input_pos_ < input_.size() || parser_.in_body()) {
      if (request_started_ms_ == 0) request_started_ms_ = now_ms;  // a pipelined request
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
    if (n == 0) {
      peer_closed_ = true;
      return Next::kClose;  // the client closed; nothing left to answer
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return wait_for_input(now_ms);
    return Next::kClose;  // ECONNRESET and friends
  }
}

Connection::Next Connection::wait_for_input(std::int64_t now_ms) {
  // Draining, with nothing of a request received (an idle keep-alive connection, or a new one
  // whose first bytes have not come): nothing to finish, close now.
  if (context_.draining.load(std::memory_order_relaxed) && between_requests()) return Next::kClose;
  std::int64_t deadline;
  if (parser_.in_body()) {
    deadline = now_ms + settings_->header_timeout_ms;  // a body must keep coming
  } else if (!parser_.idle() || request_started_ms_ != 0) {
    // RFC 9112 leaves this to us: the whole head within header_timeout (slowloris), counted
    // from its first byte (or from the accept, for a connection's first request).
    if (request_started_ms_ == 0) request_started_ms_ = now_ms;
    deadline = request_started_ms_ + settings_->header_timeout_ms;
  } else {
    deadline = now_ms + settings_->keepalive_timeout_ms;
    // An idle keep-alive connection keeps no buffers: 10,000 of them should cost little more
    // than their sockets. The next request allocates again (one malloc, from the thread cache).
    if (input_.empty()) std::string().swap(input_);
    std::string().swap(out_);
    std::vector<BodyPiece>().swap(pieces_);
    if (parser_.idle()) parser_.release_memory();
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
      if (parser_.has_body()) {
        if (!keep_alive_ && status_ >= 400) {
          // A refusal that closes the connection is sent at once: the body is never read (a
          // client waiting for 100 Continue would otherwise wait for nothing).
          state_ = State::kSending;
        } else if (expect_continue_) {
          send_continue();
        }
      }
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
  keep_alive_ = head.keep_alive && settings_->keepalive_timeout_ms > 0 &&
                !context_.draining.load(std::memory_order_relaxed);
  // RFC 9110 10.1.1: 100-continue is the only expectation; HTTP/1.0 requests' are ignored.
  expect_continue_ = false;
  if (head.version_minor >= 1 && head.count("expect") > 0) {
    const auto expect = head.header("expect");
    if (head.count("expect") > 1 || !equals_ignore_case(*expect, "100-continue")) {
      plan_error(417, /*close=*/true);
      return;
    }
    expect_continue_ = parser_.has_body();
  }
  if (head.method == Method::kOtherKnown) {
    // RFC 9110 15.5.6: 405 lists the methods the resource supports.
    plan_error(405, /*close=*/false);
    return;
  }
  if (!settings_->status_path.empty()) {
    const std::string_view path = std::string_view(head.target).substr(0, head.target.find('?'));
    if (path == settings_->status_path) {
      // Never looked up in the document root, whoever asks.
      if (settings_->status_allow.allows(peer_)) {
        plan_status_page();
      } else {
        plan_error(404, /*close=*/false);
      }
      return;
    }
  }
  const Target target = resolve_target(head.target);
  if (target.status != 0) {
    plan_error(target.status, /*close=*/target.status == 400);
    return;
  }
  FileCache::Result lookup = settings_->files->lookup(target, settings_->index, now_ms_);
  (lookup.hit ? context_.metrics.file_cache_hits : context_.metrics.file_cache_misses)
      .fetch_add(1, std::memory_order_relaxed);
  if (lookup.file) {
    plan_file(std::move(lookup.file));
    return;
  }
  FileLookup& found = lookup.miss;
  if (found.status == 301) {
    const std::string_view page = status_page(301);
    ResponseHead response = base_head(301);
    response.content_type = "text/html; charset=utf-8";
    response.content_length = page.size();
    response.location = found.location;
    emit_head(response);
    if (head.method == Method::kGet) out_.append(page);
    return;
  }
  if (found.directory_without_index && settings_->autoindex) {
    plan_listing(found.path, target.path);
    return;
  }
  if (found.status >= 500) {
    context_.log.log(LogLevel::kWarn, "{}: {} for {}", peer_address(peer_), found.status,
                     head.target);
  }
  plan_error(found.status, /*close=*/false);
}

void Connection::plan_file(std::shared_ptr<const CachedFile> entry) {
  const RequestHead& request = parser_.head();
  const bool is_get = request.method == Method::kGet;

  // The selected representation: the file itself, or a precompressed sibling the client
  // accepts (br first). Vary goes on every response for a file that has a sibling, whichever
  // one is served (RFC 9110 12.5.5).
  const FileRepresentation* rep = &entry->identity;
  std::string_view encoding;
  if (entry->has_variants()) {
    const std::string accept = request.combined("accept-encoding").value_or("");
    if (!accept.empty()) {
      if (entry->br.file && accepts_coding(accept, "br")) {
        rep = &entry->br;
        encoding = "br";
      } else if (entry->gz.file && accepts_coding(accept, "gzip")) {
        rep = &entry->gz;
        encoding = "gzip";
      }
    }
  }

  const auto size = static_cast<std::uint64_t>(rep->info.st_size);
  const Validators validators{rep->etag, rep->info.st_mtime, wall_seconds()};

  ResponseHead response = base_head(200);
  response.last_modified = rep->info.st_mtime;
  response.etag = rep->etag;
  response.vary = entry->has_variants() ? "Accept-Encoding" : "";
  response.cache_control = settings_->cache_control;

  switch (evaluate_preconditions(request, validators)) {
    case Precondition::kFailed:
      plan_error(412, /*close=*/false);
      return;
    case Precondition::kNotModified:
      // RFC 9110 15.4.5: the validators and Cache-Control/Vary a 200 would carry, no content.
      response.status = 304;
      response.omit_content_length = true;
      emit_head(response);
      return;
    case Precondition::kProceed:
      break;
  }

  // RFC 9110 14.2: Range is ignored unless there is exactly one field and If-Range allows it.
  RangeDecision ranges;
  if (request.count("range") == 1 && if_range_allows(request, validators)) {
    ranges = decide_range(*request.header("range"), size, settings_->max_ranges);
  }
  std::string content_range;
  response.content_encoding = encoding;
  response.accept_ranges = true;
  if (ranges.kind == RangeDecision::Kind::kUnsatisfiable) {
    // RFC 9110 15.5.17: 416 says the current length.
    content_range = fmt::format("bytes */{}", size);
    plan_error(416, /*close=*/false, content_range);
    return;
  }
  if (ranges.kind == RangeDecision::Kind::kFull) {
    response.preformatted_fields = rep->fields_200;  // Content-Type .. Cache-Control
    emit_head(response);
    if (is_get && size > 0) {
      if (rep->in_memory) {
        out_.append(rep->body);  // head and body leave in one send()
      } else {
        add_file_piece({}, 0, size);
      }
    }
  } else if (ranges.ranges.size() == 1) {
    const ByteRange& r = ranges.ranges.front();
    content_range = fmt::format("bytes {}-{}/{}", r.first, r.last, size);
    response.status = 206;
    response.content_type = entry->content_type;
    response.content_length = r.length();
    response.content_range = content_range;
    emit_head(response);
    if (is_get) add_file_piece({}, static_cast<off_t>(r.first), r.length());
  } else {
    // RFC 9110 14.6: several ranges go out as multipart/byteranges, each part with its own
    // Content-Type and Content-Range; the exact length is known before the first byte is sent.
    thread_local std::mt19937_64 random{std::random_device{}()};
    const std::string boundary = make_boundary(random());
    MultipartBody body =
        build_multipart_byteranges(ranges.ranges, size, entry->content_type, boundary);
    const std::string multipart_type = multipart_content_type(boundary);
    response.status = 206;
    response.content_type = multipart_type;
    response.content_length = body.content_length;
    emit_head(response);
    if (is_get) {
      for (MultipartPart& part : body.parts) {
        add_file_piece(std::move(part.head), static_cast<off_t>(part.range.first),
                       part.range.length());
      }
      add_file_piece(std::move(body.tail), 0, 0);
    }
  }
  if (!pieces_.empty()) {
    file_fd_ = rep->file.get();
    file_entry_ = std::move(entry);  // keeps file_fd_ open until the response is sent
  }
}

void Connection::plan_listing(std::string_view directory, std::string_view url_path) {
  const RequestHead& request = parser_.head();
  std::vector<ListingEntry> entries;
  if (const int err =
          read_directory(settings_->root.get(), directory, settings_->symlinks, entries);
      err != 0) {
    context_.log.log(LogLevel::kWarn, "{}: cannot list {}: {}", peer_address(peer_), request.target,
                     std::strerror(err));
    plan_error(err == EACCES ? 403 : 500, /*close=*/false);
    return;
  }
  const std::string accept = request.combined("accept").value_or("");
  const bool json = prefers_json(accept);
  std::string body = json ? render_listing_json(url_path, std::move(entries))
                          : render_listing_html(url_path, std::move(entries));
  ResponseHead response = base_head(200);
  response.content_type = json ? "application/json; charset=utf-8" : "text/html; charset=utf-8";
  response.content_length = body.size();
  response.vary = "Accept";  // the format follows the Accept field
  response.cache_control = settings_->cache_control;
  emit_head(response);
  if (request.method == Method::kGet) out_.append(body);
}

std::int64_t Connection::request_elapsed_ms() const {
  return request_started_ms_ > 0 && now_ms_ >= request_started_ms_ ? now_ms_ - request_started_ms_
                                                                   : 0;
}

void Connection::plan_status_page() {
  const std::string page = render_metrics(context_.metrics, context_.gauges());
  ResponseHead response = base_head(200);
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.content_length = page.size();
  response.cache_control = "no-store";
  emit_head(response);
  if (parser_.head().method == Method::kGet) out_.append(page);
}

void Connection::plan_error(int status, bool close, std::string_view content_range) {
  // A refused request whose client waits for 100 Continue gets the final response without it
  // (RFC 9110 10.1.1), and the connection closes instead of reading a body that may never come.
  if (close || expect_continue_) keep_alive_ = false;
  const std::string_view page = status_page(status);
  ResponseHead response = base_head(status);
  response.content_type = "text/html; charset=utf-8";
  response.content_length = page.size();
  response.content_range = content_range;
  if (status == 405) response.allow = "GET, HEAD";
  emit_head(response);
  // A HEAD request gets the head only; a request that failed to parse has no method to trust.
  if (parser_.head().method != Method::kHead || parser_.error_status() != 0) out_.append(page);
}

void Connection::send_continue() {
  // Best effort: between responses the socket buffer is empty, so 25 bytes always fit; if they
  // do not, the client sends its body after its own wait (RFC 9110 10.1.1).
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  (void)::send(socket_.get(), kContinue.data(), kContinue.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

ResponseHead Connection::base_head(int status) const {
  ResponseHead head;
  head.status = status;
  head.date = http_date_now();
  if (!keep_alive_) {
    head.connection = "close";
  } else if (parser_.head().version_minor == 0) {
    head.connection = "keep-alive";  // RFC 9112 9.3: HTTP/1.0 keep-alive must be confirmed
  }
  return head;
}

void Connection::emit_head(const ResponseHead& head) {
  thread_local fmt::memory_buffer buffer;
  buffer.clear();
  append_response_head(buffer, head);
  out_.assign(buffer.data(), buffer.size());
  out_pos_ = 0;
  head_bytes_ = buffer.size();
  status_ = head.status;
  body_bytes_ = 0;
  file_entry_.reset();
  file_fd_ = -1;
  pieces_.clear();
  piece_ = 0;
  piece_pos_ = 0;
  file_offset_ = 0;
  file_remaining_ = 0;
  if (!response_planned_)
    context_.metrics.connections_active.fetch_add(1, std::memory_order_relaxed);
  response_planned_ = true;
}

void Connection::add_file_piece(std::string bytes, off_t offset, std::uint64_t length) {
  if (pieces_.empty()) {
    file_offset_ = offset;
    file_remaining_ = length;
  }
  pieces_.push_back({std::move(bytes), offset, length});
}

Connection::SendResult Connection::send_response() {
  const int fd = socket_.get();
  if (!pieces_.empty() && !corked_ && out_pos_ == 0) {  // once, before the head's first byte
    // Head, part heads and file bytes leave in full segments; uncorking flushes the tail.
    set_cork(fd, true);
    corked_ = true;
    if (file_remaining_ > kLargeBody && !notsent_lowat_set_) {
      // Best effort, like the cork itself.
      (void)::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &kLargeBodyNotsentLowat,
                         sizeof kLargeBodyNotsentLowat);
      notsent_lowat_set_ = true;
    }
  }
  auto send_bytes = [fd](std::string_view bytes, std::size_t& pos) {
    while (pos < bytes.size()) {
      const ssize_t n = ::send(fd, bytes.data() + pos, bytes.size() - pos, MSG_NOSIGNAL);
      if (n > 0) {
        pos += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return SendResult::kBlocked;
      return SendResult::kFailed;
    }
    return SendResult::kDone;
  };
  if (const SendResult r = send_bytes(out_, out_pos_); r != SendResult::kDone) return r;
  std::uint64_t& budget = send_budget_;  // shared by every response of this serve() call
  while (piece_ < pieces_.size()) {
    BodyPiece& piece = pieces_[piece_];
    const std::size_t before = piece_pos_;
    const SendResult r = send_bytes(piece.bytes, piece_pos_);
    body_bytes_ += piece_pos_ - before;
    if (r != SendResult::kDone) return r;
    while (file_remaining_ > 0) {
      const std::size_t chunk = static_cast<std::size_t>(std::min(file_remaining_, kSendfileChunk));
      const ssize_t n = ::sendfile(fd, file_fd_, &file_offset_, chunk);
      if (n > 0) {
        if (corked_ && piece_ + 1 == pieces_.size()) {
          // The head has left together with the first file bytes, in full segments, and only
          // file bytes follow: uncork now rather than at the end, so that each further chunk
          // goes out as soon as it is queued (as lighttpd does). With kSendfileChunk this took
          // 1 MiB x16 from 3,200 to 5,100 req/s and 100 MiB x4 from 26 to 30 (nginx 3,570 and
          // 24.5); 64 KiB bodies fit in the first chunk and are unchanged.
          set_cork(fd, false);
          corked_ = false;
        }
        const auto sent = static_cast<std::uint64_t>(n);
        file_remaining_ -= sent;
        body_bytes_ += sent;
        budget -= std::min(budget, sent);
        if (budget == 0 && file_remaining_ > 0) return SendResult::kYield;
        continue;
      }
      if (n == 0) {
        // The file shrank under us: never pad, never hang; the connection is closed.
        context_.log.log(LogLevel::kWarn, "{}: file truncated while sending {}",
                         peer_address(peer_), parser_.head().target);
        return SendResult::kFailed;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return SendResult::kBlocked;
      return SendResult::kFailed;
    }
    if (++piece_ < pieces_.size()) {
      piece_pos_ = 0;
      file_offset_ = pieces_[piece_].offset;
      file_remaining_ = pieces_[piece_].length;
    }
  }
  if (corked_) {
    set_cork(fd, false);
    corked_ = false;
  }
  return SendResult::kDone;
}

void Connection::finish_response() {
  log_access();
  const std::uint64_t inline_body = out_pos_ > head_bytes_ ? out_pos_ - head_bytes_ : 0;
  context_.metrics.count_response(status_, head_bytes_ + inline_body + body_bytes_,
                                  request_elapsed_ms() * 1000);
  context_.metrics.connections_active.fetch_sub(1, std::memory_order_relaxed);
  response_planned_ = false;
  response_done_ = true;
  file_entry_.reset();
  file_fd_ = -1;
  pieces_.clear();
  out_.clear();
  out_pos_ = 0;
  head_bytes_ = 0;
}

void Connection::log_access() {
  if (!context_.access_log.enabled() || !response_planned_) return;
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
  // The combined format plus the request's duration in seconds (nginx's $request_time).
  const std::int64_t elapsed_ms = request_elapsed_ms();
  fmt::format_to(std::back_inserter(line), "\" {}.{:03}\n", elapsed_ms / 1000, elapsed_ms % 1000);
  context_.access_log.submit(std::string(line.data(), line.size()));
}

void Connection::prepare_close() {
  const int fd = socket_.get();
  if (fd < 0) return;
  if (response_planned_) {
    log_access();  // an unfinished response (client gone, timeout, shutdown)
    context_.metrics.connections_active.fetch_sub(1, std::memory_order_relaxed);
    response_planned_ = false;
    return;
  }
  if (!response_done_ || peer_closed_) return;
  // A client that said Connection: close and whose bytes were all read has nothing more in
  // flight: just FIN. Otherwise (unread input, a body or a request that failed half-way)
  // linger, bounded, as nginx's lingering_close does.
  const bool may_send_more =
      !input_.empty() || input_maybe_pending_ || parser_.in_body() || parser_.error_status() != 0;
  if (!may_send_more) {
    // The FIN is sent here, by the worker that finished the response, not by the reactor's
    // close(): that then only releases the descriptor, and the costly part of a TCP close runs
    // on the workers instead of being serialised on the reactor thread (1 KiB Connection:
    // close went from 0.96 to 1.07 of nginx's req/s with this).
    ::shutdown(fd, SHUT_WR);
    return;
  }
  // Lingering close: FIN after the response, then read what the client already sent so that
  // close() does not answer it with a reset that could destroy the response.
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
