// Formatting of a response head (status line + fields + empty line) with libfmt. Pure.
#pragma once

#include <cstdint>
#include <ctime>
#include <string_view>

#include <fmt/format.h>

namespace cork {

// What a response head says. A copyable value; string_views must outlive the call to
// append_response_head only.
struct ResponseHead {
  int status = 200;
  std::string_view date;              // preformatted IMF-fixdate; the caller caches it per second
  std::string_view content_type;      // omitted when empty
  std::uint64_t content_length = 0;   // sent unless omit_content_length (never chunked)
  bool omit_content_length = false;   // 304 (RFC 9110 15.4.5: no content, length optional)
  std::time_t last_modified = -1;     // omitted when < 0
  std::string_view etag;              // omitted when empty; a complete entity-tag
  bool accept_ranges = false;         // "Accept-Ranges: bytes"
  std::string_view content_range;     // omitted when empty: "bytes 0-99/1000" or "bytes */1000"
  std::string_view content_encoding;  // omitted when empty ("br", "gzip")
  std::string_view vary;              // omitted when empty ("Accept-Encoding")
  std::string_view cache_control;     // omitted when empty
  // When not empty, written instead of the representation fields above (Content-Type through
  // Cache-Control): what append_representation_fields() produced once for a cached file.
  std::string_view preformatted_fields;
  std::string_view location;     // omitted when empty (301)
  std::string_view allow;        // omitted when empty (405)
  std::string_view retry_after;  // omitted when empty (503: seconds, RFC 9110 10.2.3)
  // "close", "keep-alive" or empty (nothing sent: HTTP/1.1 keep-alive is the default).
  std::string_view connection;
};

// Appends "HTTP/1.1 <status> <reason>\r\n" then, in this order, Server: cork, Date,
// Content-Type, Content-Length, Content-Range, Content-Encoding, Last-Modified, ETag,
// Accept-Ranges, Vary, Cache-Control, Location, Allow, Retry-After, Connection, then "\r\n".
void append_response_head(fmt::memory_buffer& out, const ResponseHead& head);

// Only the representation fields of `head`, Content-Type through Cache-Control, in the order
// above: the part of a 200 that depends on the file alone and can be formatted once.
void append_representation_fields(fmt::memory_buffer& out, const ResponseHead& head);

}  // namespace cork
