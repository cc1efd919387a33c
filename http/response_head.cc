// Response heads, formatted with libfmt straight into the caller's buffer.
#include "http/response_head.h"

#include <iterator>

#include "http/http_date.h"
#include "http/status.h"

namespace cork {

void append_representation_fields(fmt::memory_buffer& out, const ResponseHead& head) {
  auto it = std::back_inserter(out);
  if (!head.content_type.empty()) fmt::format_to(it, "Content-Type: {}\r\n", head.content_type);
  if (!head.omit_content_length) fmt::format_to(it, "Content-Length: {}\r\n", head.content_length);
  if (!head.content_range.empty()) fmt::format_to(it, "Content-Range: {}\r\n", head.content_range);
  if (!head.content_encoding.empty()) {
    fmt::format_to(it, "Content-Encoding: {}\r\n", head.content_encoding);
  }
  if (head.last_modified >= 0) {
    fmt::format_to(it, "Last-Modified: {}\r\n", format_http_date(head.last_modified));
  }
  if (!head.etag.empty()) fmt::format_to(it, "ETag: {}\r\n", head.etag);
  if (head.accept_ranges) out.append(std::string_view("Accept-Ranges: bytes\r\n"));
  if (!head.vary.empty()) fmt::format_to(it, "Vary: {}\r\n", head.vary);
  if (!head.cache_control.empty()) fmt::format_to(it, "Cache-Control: {}\r\n", head.cache_control);
}

void append_response_head(fmt::memory_buffer& out, const ResponseHead& head) {
  auto it = std::back_inserter(out);
  fmt::format_to(it, "HTTP/1.1 {} {}\r\nServer: cork\r\n", head.status, reason_phrase(head.status));
  if (!head.date.empty()) {
    out.append(std::string_view("Date: "));
    out.append(head.date);
    out.append(std::string_view("\r\n"));
  }
  if (head.preformatted_fields.empty()) {
    append_representation_fields(out, head);
  } else {
    out.append(head.preformatted_fields);
  }
  if (!head.location.empty()) fmt::format_to(it, "Location: {}\r\n", head.location);
  if (!head.allow.empty()) fmt::format_to(it, "Allow: {}\r\n", head.allow);
  if (!head.retry_after.empty()) fmt::format_to(it, "Retry-After: {}\r\n", head.retry_after);
  if (!head.connection.empty()) fmt::format_to(it, "Connection: {}\r\n", head.connection);
  out.append(std::string_view("\r\n"));
}

}  // namespace cork
