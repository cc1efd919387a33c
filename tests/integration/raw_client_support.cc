// Integration-test support: the raw loopback HTTP client (see raw_client_support.h).
#include "integration/raw_client_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

#include <llhttp.h>

#include "http/ascii.h"
#include "integration/temp_dir_support.h"

namespace cork::integration {

namespace {

using Clock = std::chrono::steady_clock;

// The longest head this client accepts before calling the response malformed.
constexpr std::size_t kMaxHead = 1 << 20;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<long long>(left.count(), INT_MAX));
}

// Waits for `events` on `fd` until `deadline`. True when ready (or in error), false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd entry{fd, events, 0};
    int ready = ::poll(&entry, 1, remaining_ms(deadline));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return true;  // let the following call report the error
  }
}

// What llhttp lets through in a response head but cork must never send: a bare LF line end (RFC
// 9112 2.2) or a field line folded onto the next (obs-fold, 5.2). Empty when there is neither.
std::string head_problem(std::string_view head) {
  for (std::size_t at = head.find('\n'); at != std::string_view::npos;
       at = head.find('\n', at + 1)) {
    if (at == 0 || head[at - 1] != '\r') return "response head uses bare LF";
    if (at + 1 < head.size() && (head[at + 1] == ' ' || head[at + 1] == '\t')) {
      return "response head folds a field line (obs-fold)";
    }
  }
  return "";
}

// Neither copyable nor movable (llhttp keeps a pointer to it): llhttp in response mode, filling
// one HttpResponse. It pauses at the end of the head, so that the caller can look at the head's
// bytes and may stop there, and at the end of the message, so that the bytes of a pipelined
// response after it stay unparsed. (A response without a body pauses once, at the end of the
// message, which is also the end of its head.)
class ResponseParser {
 public:
  enum class Stop { kNeedMore, kHead, kMessage, kError };

  ResponseParser(HttpResponse& out, Method method) : out_(out), method_(method) {
    llhttp_settings_init(&settings_);
    settings_.on_status = on_status;
    settings_.on_header_field = on_header_field;
    settings_.on_header_field_complete = on_header_field_complete;
    settings_.on_header_value = on_header_value;
    settings_.on_header_value_complete = on_header_value_complete;
    settings_.on_headers_complete = on_headers_complete;
    settings_.on_body = on_body;
    settings_.on_message_complete = on_message_complete;
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
  }
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Parses `size` bytes at `data`; `consumed` says how many it took. kHead: the head is complete
  // and the body follows (feed the rest, even if that is nothing, to go on); kMessage: the
  // response is complete.
  Stop feed(const char* data, std::size_t size, std::size_t& consumed) {
    const llhttp_errno_t result = llhttp_execute(&parser_, data, size);
    if (result == HPE_OK) {
      consumed = size;
      return Stop::kNeedMore;
    }
    consumed = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data);
    if (result == HPE_PAUSED) {
      llhttp_resume(&parser_);
      return message_done_ ? Stop::kMessage : Stop::kHead;
    }
    if (error_.empty()) {
      error_ = std::string(llhttp_errno_name(result)) + ": " + llhttp_get_error_reason(&parser_);
    }
    return Stop::kError;
  }

  // The stream ended. True when that completes the response: a body delimited by the close.
  bool finish() {
    if (message_done_) return true;
    const llhttp_errno_t result = llhttp_finish(&parser_);
    if (result != HPE_OK && result != HPE_PAUSED) {
      error_ = std::string(llhttp_errno_name(result)) + ": " + llhttp_get_error_reason(&parser_);
    }
    return message_done_;
  }

  bool head_done() const { return head_done_; }
  const std::string& error() const { return error_; }

 private:
  static ResponseParser& self(llhttp_t* parser) {
    return *static_cast<ResponseParser*>(parser->data);
  }
  static int on_status(llhttp_t* parser, const char* at, std::size_t length) {
    self(parser).out_.reason.append(at, length);
    return HPE_OK;
  }
  // A name or value may come in several pieces when its bytes arrive in several reads.
  static int on_header_field(llhttp_t* parser, const char* at, std::size_t length) {
    self(parser).field_.append(at, length);
    return HPE_OK;
  }
  // RFC 9112 5.1: no whitespace between the name and the colon (llhttp accepts it in responses).
  static int on_header_field_complete(llhttp_t* parser) {
    ResponseParser& p = self(parser);
    if (p.field_.find_first_of(" \t") != std::string::npos) {
      p.error_ = "whitespace between a field name and the colon";  // llhttp replaces its reason
      return HPE_USER;
    }
    return HPE_OK;
  }
  static int on_header_value(llhttp_t* parser, const char* at, std::size_t length) {
    self(parser).value_.append(at, length);
    return HPE_OK;
  }
  static int on_header_value_complete(llhttp_t* parser) {
    ResponseParser& p = self(parser);
    p.out_.headers.emplace_back(std::move(p.field_), std::string(trim_ows(p.value_)));
    p.field_.clear();
    p.value_.clear();
    return HPE_OK;
  }
  static int on_headers_complete(llhttp_t* parser) {
    ResponseParser& p = self(parser);
    p.out_.version =
        "HTTP/" + std::to_string(parser->http_major) + "." + std::to_string(parser->http_minor);
    p.out_.status = parser->status_code;
    p.head_done_ = true;
    // RFC 9112 6.3: responses to HEAD, and 1xx, 204 and 304, end with their head whatever
    // their fields say (llhttp would read a 304's Content-Length). 1 = "no body": the message is
    // complete at once, and on_message_complete pauses there.
    const int status = parser->status_code;
    if (p.method_ == Method::kHead || status / 100 == 1 || status == 204 || status == 304) return 1;
    return HPE_PAUSED;
  }
  static int on_body(llhttp_t* parser, const char* at, std::size_t length) {
    self(parser).out_.body.append(at, length);
    return HPE_OK;
  }
  static int on_message_complete(llhttp_t* parser) {
    self(parser).message_done_ = true;
    return HPE_PAUSED;
  }

  HttpResponse& out_;
  const Method method_;
  llhttp_settings_t settings_{};
  llhttp_t parser_{};
  std::string field_;
  std::string value_;
  bool head_done_ = false;
  bool message_done_ = false;
  std::string error_;
};

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (equals_ignore_case(field, name)) return value;
  }
  return std::nullopt;
}

std::size_t HttpResponse::header_count(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(headers.begin(), headers.end(),
                    [&](const auto& field) { return equals_ignore_case(field.first, name); }));
}

void RawClient::close() {
  fd_.reset();
  buffer_.clear();
}

void RawClient::close_with_reset() {
  if (fd_) {
    linger option{1, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &option, sizeof option);
  }
  close();
}

::testing::AssertionResult RawClient::connect(int port, std::chrono::milliseconds timeout) {
  close();
  connect_errno_ = 0;
  // Non-blocking for good: every read and write below waits with poll() and a deadline.
  fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_) {
    connect_errno_ = errno;
    return ::testing::AssertionFailure() << "socket: " << std::strerror(connect_errno_);
  }
  int one = 1;
  ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (receive_buffer_ > 0) {
    // Before connect(), so that the window scale offered in the SYN matches the buffer.
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer_, sizeof receive_buffer_);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    return ::testing::AssertionSuccess();
  }
  if (errno == EINPROGRESS) {
    if (!wait_for(fd_.get(), POLLOUT, Clock::now() + timeout)) {
      connect_errno_ = ETIMEDOUT;
    } else {
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length);
      connect_errno_ = error;
    }
  } else {
    connect_errno_ = errno;
  }
  if (connect_errno_ == 0) return ::testing::AssertionSuccess();
  close();
  return ::testing::AssertionFailure()
         << "connect to 127.0.0.1:" << port << ": " << std::strerror(connect_errno_);
}

::testing::AssertionResult RawClient::send_all(std::string_view data,
                                               std::chrono::milliseconds timeout) {
  if (!fd_) return ::testing::AssertionFailure() << "send on a closed client";
  auto deadline = Clock::now() + timeout;
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd_.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd_.get(), POLLOUT, deadline)) {
        return ::testing::AssertionFailure()
               << "send timed out after " << sent << " of " << data.size() << " bytes";
      }
      continue;
    }
    return ::testing::AssertionFailure() << "send failed after " << sent << " of " << data.size()
                                         << " bytes: " << std::strerror(errno);
  }
  return ::testing::AssertionSuccess();
}

RawClient::Fill RawClient::fill(Clock::time_point deadline) {
  char chunk[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return Fill::kData;
    }
    if (n == 0) return Fill::kClosed;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return Fill::kReset;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_for(fd_.get(), POLLIN, deadline)) return Fill::kTimedOut;
      continue;
    }
    read_errno_ = errno;
    return Fill::kError;
  }
}

std::string RawClient::describe(Fill fill, int error) {
  switch (fill) {
    case Fill::kData:
      return "data";
    case Fill::kClosed:
      return "connection closed by server";
    case Fill::kReset:
      return "connection reset by server";
    case Fill::kTimedOut:
      return "timed out";
    case Fill::kError:
      return std::string("recv failed: ") + std::strerror(error);
  }
  return "?";
}

::testing::AssertionResult RawClient::read_parsed(HttpResponse& out, Until until, Method method,
                                                  std::chrono::milliseconds timeout) {
  out = HttpResponse{};
  if (!fd_) return ::testing::AssertionFailure() << "read on a closed client";
  const auto deadline = Clock::now() + timeout;
  ResponseParser parser(out, method);
  // buffer_[0, parsed) has been parsed. The head stays in buffer_ until it is complete, so that
  // buffered() and the failure messages can show it; after it, parsed bytes are dropped at once
  // (the body is in out.body).
  std::size_t parsed = 0;
  bool head_checked = false;
  for (;;) {
    for (;;) {
      std::size_t consumed = 0;
      const ResponseParser::Stop stop =
          parser.feed(buffer_.data() + parsed, buffer_.size() - parsed, consumed);
      parsed += consumed;
      if (stop == ResponseParser::Stop::kError) {
        // llhttp stops at the offending byte; a bare LF there is the clearer report.
        const std::string_view seen(buffer_.data(), std::min(parsed + 1, buffer_.size()));
        if (const std::string problem = head_problem(seen);
            !parser.head_done() && !problem.empty()) {
          return ::testing::AssertionFailure() << problem << ": " << printable(seen);
        }
        return ::testing::AssertionFailure()
               << "malformed response (" << parser.error() << ") at byte " << parsed << " of \""
               << printable(buffer_) << "\"";
      }
      if (stop != ResponseParser::Stop::kNeedMore && !head_checked) {
        head_checked = true;  // `parsed` is the end of the head
        const std::string_view head(buffer_.data(), parsed);
        if (const std::string problem = head_problem(head); !problem.empty()) {
          return ::testing::AssertionFailure() << problem << ": " << printable(head);
        }
        if (until == Until::kHead) {
          buffer_.erase(0, parsed);
          return ::testing::AssertionSuccess();
        }
      }
      if (stop == ResponseParser::Stop::kMessage) {
        buffer_.erase(0, parsed);
        return ::testing::AssertionSuccess();
      }
      if (stop == ResponseParser::Stop::kNeedMore) break;
      // kHead: the parser goes on into the body, with what is left or with nothing.
    }
    if (parser.head_done()) {
      buffer_.erase(0, parsed);
      parsed = 0;
    } else if (buffer_.size() > kMaxHead) {
      return ::testing::AssertionFailure() << "no end of head in " << buffer_.size() << " bytes";
    }
    const Fill result = fill(deadline);
    if (result == Fill::kData) continue;
    if (!parser.head_done()) {
      return ::testing::AssertionFailure()
             << describe(result, read_errno_) << " before a complete response head (received "
             << buffer_.size() << " bytes: \"" << printable(buffer_) << "\")";
    }
    // RFC 9112 6.3: without Content-Length or chunked, the close ends the body.
    if ((result == Fill::kClosed || result == Fill::kReset) && parser.finish()) {
      out.framed_by_close = true;
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "reading the body: " << describe(result, read_errno_) << " after " << out.body.size()
           << " bytes of it" << (parser.error().empty() ? "" : " (" + parser.error() + ")");
  }
}

::testing::AssertionResult RawClient::read_head(HttpResponse& out,
                                                std::chrono::milliseconds timeout) {
  return read_parsed(out, Until::kHead, Method::kGet, timeout);
}

::testing::AssertionResult RawClient::read_exactly(std::size_t size, std::string& out,
                                                   std::chrono::milliseconds timeout) {
  if (!fd_) return ::testing::AssertionFailure() << "read on a closed client";
  auto deadline = Clock::now() + timeout;
  while (buffer_.size() < size) {
    Fill result = fill(deadline);
    if (result != Fill::kData) {
      return ::testing::AssertionFailure() << describe(result, read_errno_) << " after "
                                           << buffer_.size() << " of " << size << " bytes";
    }
  }
  if (out.empty() && buffer_.size() == size) {
    out = std::move(buffer_);
    buffer_.clear();
  } else {
    out.append(buffer_, 0, size);
    buffer_.erase(0, size);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult RawClient::read_some(std::size_t max, std::string& out,
                                                std::chrono::milliseconds timeout) {
  if (!fd_) return ::testing::AssertionFailure() << "read on a closed client";
  if (buffer_.empty()) {
    Fill result = fill(Clock::now() + timeout);
    if (result != Fill::kData)
      return ::testing::AssertionFailure() << describe(result, read_errno_);
  }
  const std::size_t n = std::min(max, buffer_.size());
  out.append(buffer_, 0, n);
  buffer_.erase(0, n);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult RawClient::read_response(HttpResponse& out, Method method,
                                                    std::chrono::milliseconds timeout) {
  return read_parsed(out, Until::kMessage, method, timeout);
}

Drained RawClient::read_until_close(std::chrono::milliseconds timeout) {
  Drained result;
  if (!fd_) {
    result.end = StreamEnd::kError;
    return result;
  }
  auto deadline = Clock::now() + timeout;
  for (;;) {
    Fill fill_result = fill(deadline);
    if (fill_result == Fill::kData) continue;
    result.data = std::move(buffer_);
    buffer_.clear();
    switch (fill_result) {
      case Fill::kClosed:
        result.end = StreamEnd::kClosed;
        break;
      case Fill::kReset:
        result.end = StreamEnd::kReset;
        break;
      case Fill::kTimedOut:
        result.end = StreamEnd::kTimedOut;
        break;
      default:
        result.end = StreamEnd::kError;
        break;
    }
    return result;
  }
}

bool RawClient::still_open() {
  if (!fd_) return false;
  if (!buffer_.empty()) return true;
  char byte;
  for (;;) {
    ssize_t n = ::recv(fd_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

std::string get_request(std::string_view target, std::string_view extra_fields) {
  std::string request = "GET ";
  request.append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  request.append(extra_fields).append("\r\n");
  return request;
}

std::string head_request(std::string_view target, std::string_view extra_fields) {
  std::string request = "HEAD ";
  request.append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  request.append(extra_fields).append("\r\n");
  return request;
}

::testing::AssertionResult fetch(int port, std::string_view request, HttpResponse& out,
                                 Method method, std::chrono::milliseconds timeout) {
  RawClient client;
  if (auto connected = client.connect(port, timeout); !connected) return connected;
  if (auto sent = client.send_all(request, timeout); !sent) return sent;
  return client.read_response(out, method, timeout);
}

}  // namespace cork::integration
