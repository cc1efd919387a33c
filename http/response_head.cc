// Response heads, appended straight into the caller's buffer.
#include "http/response_head.h"

#include <cstdint>
#include <string_view>

#include "http/http_date.h"
#include "http/status.h"

namespace cork {

namespace {

// Appends name, value and CRLF. Plain appends: fmt's run-time format parsing cost more than the
// rest of a cached response's head (tests/bench/PERFORMANCE.md).
void field(fmt::memory_buffer& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(value);
  out.append(std::string_view("\r\n"));
}

void field(fmt::memory_buffer& out, std::string_view name, std::uint64_t value) {
  const fmt::format_int digits(value);
  out.append(name);
  out.append(std::string_view(digits.data(), digits.size()));
  out.append(std::string_view("\r\n"));
}

}  // namespace

void append_representation_fields(fmt::memory_buffer& out, const ResponseHead& head) {
  if (!head.content_type.empty()) field(out, "Content-Type: ", head.content_type);
  if (!head.omit_content_length) field(out, "Content-Length: ", head.content_length);
  if (!head.content_range.empty()) field(out, "Content-Range: ", head.content_range);
  if (!head.content_encoding.empty()) field(out, "Content-Encoding: ", head.content_encoding);
  if (head.last_modified >= 0) {
    char date[kHttpDateLength];
    write_http_date(head.last_modified, date);
    field(out, "Last-Modified: ", std::string_view(date, sizeof date));
  }
  if (!head.etag.empty()) field(out, "ETag: ", head.etag);
  if (head.accept_ranges) out.append(std::string_view("Accept-Ranges: bytes\r\n"));
  if (!head.vary.empty()) field(out, "Vary: ", head.vary);
  if (!head.cache_control.empty()) field(out, "Cache-Control: ", head.cache_control);
}

void append_response_head(fmt::memory_buffer& out, const ResponseHead& head) {
  const fmt::format_int status(head.status);
  out.append(std::string_view("HTTP/1.1 "));
  out.append(std::string_view(status.data(), status.size()));
  out.append(std::string_view(" "));
  out.append(reason_phrase(head.status));
  out.append(std::string_view("\r\nServer: cork\r\n"));
  if (!head.date.empty()) field(out, "Date: ", head.date);
  if (head.preformatted_fields.empty()) {
    append_representation_fields(out, head);
  } else {
    out.append(head.preformatted_fields);
  }
  if (!head.location.empty()) field(out, "Location: ", head.location);
  if (!head.allow.empty()) field(out, "Allow: ", head.allow);
  if (!head.retry_after.empty()) field(out, "Retry-After: ", head.retry_after);
  if (!head.connection.empty()) field(out, "Connection: ", head.connection);
  out.append(std::string_view("\r\n"));
}

}  // namespace cork
