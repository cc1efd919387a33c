// Integration-test support: the raw loopback HTTP client (see raw_client_support.h).
#include "integration/raw_client_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

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

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

::testing::AssertionResult parse_head(std::string_view head, HttpResponse& out) {
  if (head.find('\n') != std::string_view::npos && head.find("\r\n") == std::string_view::npos) {
    return ::testing::AssertionFailure() << "response head uses bare LF: " << printable(head);
  }
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = head.find("\r\n", start);
    lines.push_back(head.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 2;
  }
  // Status line: HTTP-version SP 3DIGIT SP [reason] (RFC 9112 4).
  std::string_view status_line = lines[0];
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ' ||
      !std::isdigit(static_cast<unsigned char>(status_line[9])) ||
      !std::isdigit(static_cast<unsigned char>(status_line[10])) ||
      !std::isdigit(static_cast<unsigned char>(status_line[11])) ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    return ::testing::AssertionFailure() << "malformed status line: " << printable(status_line);
  }
  out.version = std::string(status_line.substr(0, 8));
  out.status =
      (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
  out.reason = status_line.size() > 13 ? std::string(status_line.substr(13)) : "";
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 ||
        line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos ||
        line[colon - 1] == ' ' || line[colon - 1] == '\t') {
      return ::testing::AssertionFailure() << "malformed header line: " << printable(line);
    }
    out.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(trim(line.substr(colon + 1))));
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (equal_ignoring_case(field, name)) return value;
  }
  return std::nullopt;
}

std::size_t HttpResponse::header_count(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(headers.begin(), headers.end(),
                    [&](const auto& field) { return equal_ignoring_case(field.first, name); }));
}

RawClient::~RawClient() {
  close();
}

RawClient::RawClient(RawClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      connect_errno_(other.connect_errno_),
      read_errno_(other.read_errno_),
      receive_buffer_(other.receive_buffer_),
      buffer_(std::move(other.buffer_)) {}

RawClient& RawClient::operator=(RawClient&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    connect_errno_ = other.connect_errno_;
    read_errno_ = other.read_errno_;
    receive_buffer_ = other.receive_buffer_;
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

void RawClient::close_with_reset() {
  if (fd_ >= 0) {
    linger option{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  }
  close();
}

::testing::AssertionResult RawClient::connect(int port, std::chrono::milliseconds timeout) {
  close();
  connect_errno_ = 0;
  // Non-blocking for good: every read and write below waits with poll() and a deadline.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    connect_errno_ = errno;
    return ::testing::AssertionFailure() << "socket: " << std::strerror(connect_errno_);
  }
  fd_ = fd;
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (receive_buffer_ > 0) {
    // Before connect(), so that the window scale offered in the SYN matches the buffer.
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_, sizeof receive_buffer_);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    return ::testing::AssertionSuccess();
  }
  if (errno == EINPROGRESS) {
    if (!wait_for(fd_, POLLOUT, Clock::now() + timeout)) {
      connect_errno_ = ETIMEDOUT;
    } else {
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
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
  if (fd_ < 0) return ::testing::AssertionFailure() << "send on a closed client";
  auto deadline = Clock::now() + timeout;
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd_, POLLOUT, deadline)) {
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
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return Fill::kData;
    }
    if (n == 0) return Fill::kClosed;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return Fill::kReset;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_for(fd_, POLLIN, deadline)) return Fill::kTimedOut;
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

::testing::AssertionResult RawClient::read_head(HttpResponse& out,
                                                std::chrono::milliseconds timeout) {
  out = HttpResponse{};
  if (fd_ < 0) return ::testing::AssertionFailure() << "read on a closed client";
  auto deadline = Clock::now() + timeout;
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (buffer_.size() > kMaxHead) {
      return ::testing::AssertionFailure() << "no end of head in " << buffer_.size() << " bytes";
    }
    Fill result = fill(deadline);
    if (result != Fill::kData) {
      return ::testing::AssertionFailure()
             << describe(result, read_errno_) << " before a complete response head (received "
             << buffer_.size() << " bytes: \"" << printable(buffer_) << "\")";
    }
  }
  std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  return parse_head(head, out);
}

::testing::AssertionResult RawClient::read_exactly(std::size_t size, std::string& out,
                                                   std::chrono::milliseconds timeout) {
  if (fd_ < 0) return ::testing::AssertionFailure() << "read on a closed client";
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
  if (fd_ < 0) return ::testing::AssertionFailure() << "read on a closed client";
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
  auto deadline = Clock::now() + timeout;
  ::testing::AssertionResult head = read_head(out, timeout);
  if (!head) return head;
  // RFC 9112 6.3: responses to HEAD, 1xx, 204 and 304 end with the head.
  if (method == Method::kHead || out.status / 100 == 1 || out.status == 204 || out.status == 304) {
    return ::testing::AssertionSuccess();
  }
  if (out.header_count("Transfer-Encoding") != 0) {
    return ::testing::AssertionFailure()
           << "unexpected Transfer-Encoding: " << *out.header("Transfer-Encoding");
  }
  std::size_t lengths = out.header_count("Content-Length");
  if (lengths == 0) {
    Drained rest = read_until_close(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    out.body = std::move(rest.data);
    out.framed_by_close = true;
    if (!rest.closed()) {
      return ::testing::AssertionFailure() << "no Content-Length and the stream did not end";
    }
    return ::testing::AssertionSuccess();
  }
  if (lengths > 1) return ::testing::AssertionFailure() << "several Content-Length fields";
  std::string value = *out.header("Content-Length");
  if (value.empty() || value.size() > 15 || !std::all_of(value.begin(), value.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    return ::testing::AssertionFailure() << "bad Content-Length: " << printable(value);
  }
  std::size_t length = std::stoull(value);
  out.body.reserve(length);
  ::testing::AssertionResult body =
      read_exactly(length, out.body,
                   std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  if (!body) return ::testing::AssertionFailure() << "reading the body: " << body.message();
  return ::testing::AssertionSuccess();
}

Drained RawClient::read_until_close(std::chrono::milliseconds timeout) {
  Drained result;
  if (fd_ < 0) {
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
  if (fd_ < 0) return false;
  if (!buffer_.empty()) return true;
  char byte;
  for (;;) {
    ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
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
