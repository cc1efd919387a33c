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
  std::string_view date;             // preformatted IMF-fixdate; the caller caches it per second
  std::string_view content_type;     // omitted when empty
  std::uint64_t content_length = 0;  // always sent (cork never uses chunked responses)
  std::time_t last_modified = -1;    // omitted when < 0
  std::string_view location;         // omitted when empty (301)
  std::string_view allow;            // omitted when empty (405)
  // "close", "keep-alive" or empty (nothing sent: HTTP/1.1 keep-alive is the default).
  std::string_view connection;
};

// Appends "HTTP/1.1 <status> <reason>\r\n" then, in this order, Server: cork, Date,
// Content-Type, Content-Length, Last-Modified, Location, Allow, Connection, then "\r\n".
void append_response_head(fmt::memory_buffer& out, const ResponseHead& head);

}  // namespace cork
