// `cork --probe URL`: non-blocking socket, poll() against one deadline for connect, send and the
// status line; the descriptor is owned by a UniqueFd on every path.
#include "server/probe.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "http/ascii.h"
#include "server/address.h"
#include "server/io.h"
#include "server/unique_fd.h"

namespace cork {

namespace {

using Clock = std::chrono::steady_clock;

bool is_ipv4(std::string_view host) {
  const std::optional<IpAddress> address = parse_ip_address(host);
  return address && address->family == AF_INET;
}

// Milliseconds left until `deadline`, rounded up; 0 once it has passed.
int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// Waits for `events` on `fd` until the deadline. Returns false on timeout (errno = ETIMEDOUT) or
// a poll error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const int ms = remaining_ms(deadline);
    if (ms == 0) {
      errno = ETIMEDOUT;
      return false;
    }
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, ms);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

// Connects to one numeric address. Returns an invalid fd with `error` set on failure.
UniqueFd connect_to(const std::string& host, int port, Clock::time_point deadline,
                    std::string& error) {
  const std::optional<IpAddress> address = parse_ip_address(host);
  if (!address) {  // parse_probe_url lets only numeric hosts and "localhost" through
    error = fmt::format("cannot connect to {}: not an IP address", host);
    return {};
  }
  const SocketAddress to = socket_address(*address, port);
  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = fmt::format("cannot create a socket: {}", std::strerror(errno));
    return {};
  }
  if (::connect(fd.get(), to.get(), to.length) != 0) {
    const int connect_error = errno;  // before format_host_port can touch errno
    const std::string peer = format_host_port(host, port);
    if (connect_error != EINPROGRESS && connect_error != EINTR) {
      error = fmt::format("cannot connect to {}: {}", peer, std::strerror(connect_error));
      return {};
    }
    if (!wait_for(fd.get(), POLLOUT, deadline)) {
      error = fmt::format("cannot connect to {}: {}", peer, std::strerror(errno));
      return {};
    }
    int so_error = 0;
    socklen_t so_length = sizeof so_error;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &so_length) != 0) so_error = errno;
    if (so_error != 0) {
      error = fmt::format("cannot connect to {}: {}", peer, std::strerror(so_error));
      return {};
    }
  }
  return fd;
}

bool send_all(int fd, std::string_view data, Clock::time_point deadline, std::string& error) {
  while (!data.empty()) {
    const IoResult r = send_some(fd, data.data(), data.size());
    if (r.ok()) {
      data.remove_prefix(r.bytes);
      continue;
    }
    if (r.status == IoResult::Status::kWouldBlock && wait_for(fd, POLLOUT, deadline)) continue;
    error = fmt::format("cannot send the request: {}",
                        std::strerror(r.status == IoResult::Status::kWouldBlock ? errno : r.error));
    return false;
  }
  return true;
}

// Reads until the end of the status line; returns the line without CRLF, or false with `error`.
bool read_status_line(int fd, Clock::time_point deadline, std::string& line, std::string& error) {
  constexpr std::size_t kMaxLine = 8192;
  std::string buffer;
  char chunk[1024];
  for (;;) {
    const std::size_t eol = buffer.find('\n');
    if (eol != std::string::npos) {
      line = buffer.substr(0, eol);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
    if (buffer.size() > kMaxLine) {
      error = "no status line in the first 8 KiB of the response";
      return false;
    }
    const IoResult r = recv_some(fd, chunk, sizeof chunk);
    if (r.ok()) {
      buffer.append(chunk, r.bytes);
      continue;
    }
    if (r.status == IoResult::Status::kClosed) {
      error = buffer.empty() ? "connection closed without a response"
                             : "connection closed in the middle of the status line";
      return false;
    }
    if (r.status == IoResult::Status::kWouldBlock && wait_for(fd, POLLIN, deadline)) continue;
    const int cause = r.status == IoResult::Status::kWouldBlock ? errno : r.error;
    error = cause == ETIMEDOUT ? "no status line in time"
                               : fmt::format("cannot read the response: {}", std::strerror(cause));
    return false;
  }
}

// Reads the rest of the response (the server closes after it: Connection: close) so that closing
// our socket does not reset a connection the server is still writing to. Bounded by the deadline
// and 1 MiB; the outcome does not matter any more.
void drain(int fd, Clock::time_point deadline) {
  char chunk[4096];
  std::size_t total = 0;
  while (total < (std::size_t{1} << 20)) {
    const IoResult r = recv_some(fd, chunk, sizeof chunk);
    if (r.ok()) {
      total += r.bytes;
      continue;
    }
    if (r.status == IoResult::Status::kWouldBlock && wait_for(fd, POLLIN, deadline)) continue;
    return;
  }
}

}  // namespace

bool parse_probe_url(std::string_view url, ProbeTarget& out, std::string& error) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size() || !equals_ignore_case(url.substr(0, kScheme.size()), kScheme)) {
    error = "not an http:// URL (the probe speaks plain HTTP)";
    return false;
  }
  std::string_view rest = url.substr(kScheme.size());
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const std::size_t end_of_authority = std::min(rest.find('/'), rest.find('?'));
  const std::string_view authority = rest.substr(0, end_of_authority);
  std::string_view target = end_of_authority == std::string_view::npos
                                ? std::string_view()
                                : rest.substr(end_of_authority);
  for (unsigned char c : target) {
    if (c <= 0x20 || c == 0x7f) {
      error = "the URL's path must not contain spaces or control characters (percent-encode them)";
      return false;
    }
  }
  if (authority.find('@') != std::string_view::npos) {
    error = "the URL must not contain user information";
    return false;
  }
  HostPort host_port;
  if (!split_host_port(authority, host_port, error)) return false;
  ProbeTarget parsed;
  parsed.host = std::string(host_port.host);
  if (!host_port.bracketed) {
    if (equals_ignore_case(parsed.host, "localhost")) {
      parsed.host = "localhost";
    } else if (!is_ipv4(parsed.host)) {
      error = fmt::format(
          "host must be an IPv4 address, a bracketed IPv6 address or localhost, not '{}'",
          parsed.host);
      return false;
    }
  }
  // "host:" means the default port (RFC 3986 3.2.3).
  if (host_port.has_port && !host_port.port.empty()) {
    const std::optional<int> port = parse_port(host_port.port);
    if (!port) {
      error = fmt::format("port must be a whole number in 1..65535, not '{}'", host_port.port);
      return false;
    }
    parsed.port = *port;
  }
  if (target.empty()) {
    parsed.target = "/";
  } else if (target.front() == '?') {
    parsed.target = "/" + std::string(target);
  } else {
    parsed.target = std::string(target);
  }
  parsed.host_header = std::string(authority);
  if (host_port.has_port && host_port.port.empty())
    parsed.host_header.pop_back();  // drop the bare ':'
  out = std::move(parsed);
  return true;
}

int parse_status_line(std::string_view line) {
  // HTTP-version SP status-code SP [reason-phrase]  (RFC 9112 4); a missing SP after the code is
  // tolerated, as most clients do.
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[5] != '1' || line[6] != '.' ||
      line[7] < '0' || line[7] > '9' || line[8] != ' ') {
    return -1;
  }
  int code = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return -1;
    code = code * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') return -1;
  if (code < 100) return -1;
  return code;
}

bool probe(const ProbeTarget& target, std::chrono::milliseconds timeout, std::string& error) {
  const auto deadline = Clock::now() + timeout;
  const std::vector<std::string> addresses = target.host == "localhost"
                                                 ? std::vector<std::string>{"127.0.0.1", "::1"}
                                                 : std::vector<std::string>{target.host};
  UniqueFd fd;
  for (const std::string& address : addresses) {
    fd = connect_to(address, target.port, deadline, error);
    if (fd) break;
  }
  if (!fd) return false;
  const std::string request = fmt::format(
      "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: cork-probe\r\nConnection: close\r\n\r\n",
      target.target, target.host_header);
  if (!send_all(fd.get(), request, deadline, error)) return false;
  std::string line;
  if (!read_status_line(fd.get(), deadline, line, error)) return false;
  const int status = parse_status_line(line);
  if (status < 0) {
    error = fmt::format("not an HTTP/1.x status line: '{}'", line.substr(0, 80));
    return false;
  }
  drain(fd.get(), deadline);
  if (status < 200 || status >= 400) {
    error = fmt::format("status {}", line.substr(9));
    return false;
  }
  return true;
}

int run_probe(std::string_view url, std::chrono::milliseconds timeout) {
  ProbeTarget target;
  std::string error;
  if (!parse_probe_url(url, target, error) || !probe(target, timeout, error)) {
    fmt::print(stderr, "cork: probe {}: {}\n", url, error);
    return 1;
  }
  return 0;
}

}  // namespace cork
