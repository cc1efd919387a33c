// An incremental HTTP/1.1 request parser: llhttp is the state machine; this wrapper adds the
// limits (request line, head size, field count) and the strictness llhttp 8.1 lacks (obs-fold,
// whitespace before the colon, empty field names, major versions other than 1, Host rules,
// Transfer-Encoding), and works around what it refuses wrongly (HTTP/1.2, several chunk
// extensions) or stops at (an Upgrade offer cork ignores).
// Pure: it sees bytes, never a socket. Bytes may arrive one at a time or many requests at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <llhttp.h>

#include "http/request.h"

namespace cork {

struct ParserLimits {
  std::size_t max_request_line = 8192;
  std::size_t max_header_bytes = 16384;
  std::size_t max_headers = 100;
};

// Move-only in spirit, but llhttp keeps a pointer back to this object: neither copyable nor
// movable. One per connection.
class RequestParser {
 public:
  enum class Event {
    kNeedMore,         // every byte given was consumed; feed more
    kHeadComplete,     // head() is complete and valid; feed again to consume the body
    kMessageComplete,  // the whole request (head and discarded body) is consumed
    kError,            // error_status() says which; the stream cannot be trusted any more
  };
  struct Result {
    Event event;
    std::size_t consumed;  // bytes of the input used; the rest belongs to later calls
  };

  explicit RequestParser(const ParserLimits& limits);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Frees the previous request's head storage (an idle keep-alive connection keeps none); call
  // only between requests, after head() is no longer needed.
  void release_memory() { head_ = RequestHead(); }

  // New limits for the requests that follow; call between requests.
  void set_limits(const ParserLimits& limits) { limits_ = limits; }

  // Feeds bytes. Stops after the head of a request (kHeadComplete) and after its end
  // (kMessageComplete) so that the caller can answer one request at a time; call again with the
  // unconsumed rest. After kError every call returns kError.
  Result feed(std::string_view bytes);

  // The current request's head: valid from kHeadComplete until the next feed() after
  // kMessageComplete.
  const RequestHead& head() const { return head_; }
  // True between kHeadComplete and kMessageComplete of the same request.
  bool in_body() const { return head_complete_ && !message_complete_; }
  // After kHeadComplete: the request announced a body (chunked, or Content-Length > 0).
  bool has_body() const { return has_body_; }
  // After kHeadComplete: the body is chunked (its length shows only as it is read).
  bool chunked() const { return chunked_; }
  // After kHeadComplete: the Content-Length; 0 when there is none (or the body is chunked).
  std::uint64_t content_length() const { return content_length_; }
  // True while no byte of a next request has been seen (between requests).
  bool idle() const { return !message_started_ || message_complete_; }
  // 400, 414, 431, 501 or 505 after kError.
  int error_status() const { return error_status_; }
  // A short reason for logs after kError.
  std::string_view error_reason() const { return error_reason_; }

 private:
  static int on_message_begin(llhttp_t* p);
  static int on_url(llhttp_t* p, const char* at, std::size_t length);
  static int on_version_complete(llhttp_t* p);
  static int on_header_field(llhttp_t* p, const char* at, std::size_t length);
  static int on_header_value(llhttp_t* p, const char* at, std::size_t length);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_chunk_extension_value_complete(llhttp_t* p);
  static int on_message_complete(llhttp_t* p);

  int fail(int status, std::string_view reason);
  // llhttp_execute over `bytes`, past cork's own pauses inside a chunk-size line; `consumed`
  // is set where llhttp stopped when it returns an error or a pause for the caller.
  llhttp_errno_t execute(std::string_view bytes, std::size_t& consumed);
  int check_head();
  void map_llhttp_error(llhttp_errno_t err);
  Result classify_method(std::string_view rest, std::size_t consumed_before);
  bool scan_head(std::string_view bytes);

  ParserLimits limits_;
  llhttp_t parser_;
  RequestHead head_;

  std::size_t head_bytes_ = 0;         // bytes of the current head consumed so far
  std::size_t method_bytes_seen_ = 0;  // bytes of the current request line before the URL
  char method_prefix_[32] = {};        // first bytes of the current request, for 400 vs 501
  // llhttp rejected the method at its first unknown byte; whether the request line starts with
  // a token followed by SP (501) or with junk (400) is decided by the bytes that follow.
  bool method_undecided_ = false;
  std::size_t method_length_ = 0;
  // Where scan_head() is in the current request's head (request line: one SP between its
  // parts; header lines: none may start with whitespace, obs-fold).
  enum class HeadScan : std::uint8_t {
    kBeforeLine,
    kRequestLine,
    kLineStart,
    kBlankLine,
    kInLine,
    kDone
  };
  HeadScan scan_ = HeadScan::kBeforeLine;
  bool previous_was_space_ = false;
  bool has_body_ = false;
  bool chunked_ = false;
  std::uint64_t content_length_ = 0;
  bool in_field_value_ = false;
  bool version_seen_ = false;
  bool message_started_ = false;
  bool head_complete_ = false;
  bool message_complete_ = false;
  bool paused_ = false;
  bool chunk_extension_paused_ = false;  // the pause is on_chunk_extension_value_complete's
  bool failed_ = false;
  int error_status_ = 0;
  std::string_view error_reason_;
};

}  // namespace cork
