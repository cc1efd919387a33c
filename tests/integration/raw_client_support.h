// Integration-test support: a raw HTTP/1.1 client on a loopback TCP socket, so that a test says
// exactly which bytes go on the wire and checks exactly which come back. Responses are parsed by
// llhttp in response mode (the parser cork itself uses for requests), so their framing follows
// RFC 9112 6.3: no body after HEAD, 1xx, 204 and 304; Content-Length; chunked; or the end of the
// stream. Anything llhttp rejects is reported as a failure, and so is what it lets through but
// cork must never send: bare LF line ends, folded field lines, whitespace before a field's colon.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "server/unique_fd.h"

namespace cork::integration {

inline constexpr std::chrono::milliseconds kIoTimeout{5000};

// Copyable value: one parsed response.
struct HttpResponse {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, values trimmed
  std::string body;
  bool framed_by_close = false;  // neither Content-Length nor chunked: the body ran to the end

  // The first field with this name (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
  std::size_t header_count(std::string_view name) const;
};

// Which request a response answers: a response to HEAD has no body whatever its head says.
enum class Method { kGet, kHead };

// How a stream ended while reading to its end.
enum class StreamEnd { kClosed, kReset, kTimedOut, kError };

// Copyable value: everything read until the stream ended.
struct Drained {
  std::string data;
  StreamEnd end = StreamEnd::kError;
  bool closed() const { return end == StreamEnd::kClosed || end == StreamEnd::kReset; }
};

// Move-only: owns its socket (a UniqueFd). Not safe to share between threads.
class RawClient {
 public:
  RawClient() = default;
  RawClient(RawClient&& other) noexcept = default;
  RawClient& operator=(RawClient&& other) noexcept = default;
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Before connect(): SO_RCVBUF for the next connection (0 = the kernel's default), so that a
  // client that stops reading holds back a bounded amount of the server's output.
  void set_receive_buffer(int bytes) { receive_buffer_ = bytes; }

  // Connects to 127.0.0.1:port. On failure connect_errno() says why (ECONNREFUSED, ...).
  ::testing::AssertionResult connect(int port, std::chrono::milliseconds timeout = kIoTimeout);
  int connect_errno() const { return connect_errno_; }
  bool is_connected() const { return static_cast<bool>(fd_); }
  int fd() const { return fd_.get(); }

  ::testing::AssertionResult send_all(std::string_view data,
                                      std::chrono::milliseconds timeout = kIoTimeout);

  // Reads one response (head, then body by its framing). Bytes after it stay buffered for the
  // next call, so pipelined responses are read one by one. `method` is the request's: a
  // response to HEAD ends with its head whatever its Content-Length says.
  ::testing::AssertionResult read_response(HttpResponse& out, Method method = Method::kGet,
                                           std::chrono::milliseconds timeout = kIoTimeout);
  // Reads only the head; the body stays in the stream for read_exactly().
  ::testing::AssertionResult read_head(HttpResponse& out,
                                       std::chrono::milliseconds timeout = kIoTimeout);
  // Appends exactly `size` more bytes of the stream to `out`.
  ::testing::AssertionResult read_exactly(std::size_t size, std::string& out,
                                          std::chrono::milliseconds timeout = kIoTimeout);

  // Appends what is buffered or arrives next (at least one byte, at most `max`) to `out`: for
  // a client that reads at its own pace.
  ::testing::AssertionResult read_some(std::size_t max, std::string& out,
                                       std::chrono::milliseconds timeout = kIoTimeout);

  // Bytes received but not yet returned. After a failed read_response(): what arrived of the
  // head, when the head was incomplete; once it was complete `out.status` is set, and `out.body`
  // holds what arrived of the body.
  std::size_t buffered() const { return buffer_.size(); }

  // Reads (and returns) everything until the peer closes or resets, or `timeout` passes.
  Drained read_until_close(std::chrono::milliseconds timeout = kIoTimeout);

  // Without waiting: false when the peer has closed or reset the connection (and nothing
  // unread is pending before that), true otherwise.
  bool still_open();

  void close();
  // Closes with SO_LINGER 0, so the peer sees a reset (ECONNRESET/EPIPE) on its next write.
  void close_with_reset();

 private:
  enum class Fill { kData, kClosed, kReset, kTimedOut, kError };
  Fill fill(std::chrono::steady_clock::time_point deadline);
  static std::string describe(Fill fill, int error);
  // read_head() and read_response(): parse from buffer_ (filling it as needed) up to the end of
  // the head or of the whole message, and remove what was parsed.
  enum class Until { kHead, kMessage };
  ::testing::AssertionResult read_parsed(HttpResponse& out, Until until, Method method,
                                         std::chrono::milliseconds timeout);

  UniqueFd fd_;
  int connect_errno_ = 0;
  int read_errno_ = 0;
  int receive_buffer_ = 0;
  std::string buffer_;  // received, not yet returned
};

// "GET target HTTP/1.1" with a Host field, `extra_fields` (each ending in CRLF), and the blank
// line.
std::string get_request(std::string_view target, std::string_view extra_fields = "");
std::string head_request(std::string_view target, std::string_view extra_fields = "");

// One request on a fresh connection: connect, send `request`, read one response.
::testing::AssertionResult fetch(int port, std::string_view request, HttpResponse& out,
                                 Method method = Method::kGet,
                                 std::chrono::milliseconds timeout = kIoTimeout);

}  // namespace cork::integration
