// One access-log line in the combined format plus the request's duration (nginx's
// $request_time), formatted from a value: no clock, no socket, no shared state.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace cork {

// Copyable value; borrows its strings for the call.
struct AccessRecord {
  std::string_view peer;  // the client's address ("127.0.0.1", "::1", "-")
  std::string_view time;  // "%d/%b/%Y:%H:%M:%S +0000"
  std::string_view method;
  std::string_view target;
  int version_major = 1;
  int version_minor = 1;
  int status = 0;
  std::uint64_t body_bytes = 0;
  std::string_view referer;
  std::string_view user_agent;
  std::int64_t elapsed_ms = 0;
};

// Appends the line, '\n' included. Quotes, backslashes and non-printable bytes of the request's
// strings become \" \\ \xHH; an empty string becomes "-".
void append_access_line(fmt::memory_buffer& out, const AccessRecord& record);

// The numeric address of a peer ("-" for a family other than IPv4/IPv6).
std::string peer_address(const sockaddr_storage& peer);

}  // namespace cork
