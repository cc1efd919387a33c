// Access-log line formatting.
#include "server/access_line.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <iterator>

namespace cork {

namespace {

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

}  // namespace

void append_access_line(fmt::memory_buffer& out, const AccessRecord& r) {
  fmt::format_to(std::back_inserter(out), "{} - - [{}] \"", r.peer, r.time);
  append_escaped(out, r.method);
  out.push_back(' ');
  append_escaped(out, r.target);
  fmt::format_to(std::back_inserter(out), " HTTP/{}.{}\" {} {} \"", r.version_major,
                 r.version_minor, r.status, r.body_bytes);
  append_escaped(out, r.referer);
  out.append(std::string_view("\" \""));
  append_escaped(out, r.user_agent);
  fmt::format_to(std::back_inserter(out), "\" {}.{:03}\n", r.elapsed_ms / 1000,
                 r.elapsed_ms % 1000);
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

}  // namespace cork
