// `cork --probe URL`: non-blocking socket, poll() against one deadline for connect, send and the
// status line; the descriptor is owned by a UniqueFd on every path.
#include "server/probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "http/ascii.h"
#include "server/unique_fd.h"

namespace cork {

namespace {

using Clock = std::chrono::steady_clock;

bool is_ipv4(const std::string& host) {
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& host) {
  in6_addr a{};
  return ::inet_pton(AF_INET6, host.c_str(), &a) == 1;
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

std::string describe(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

// Connects to one numeric address. Returns an invalid fd with `error` set on failure.
UniqueFd connect_to(const std::string& host, int port, Clock::time_point deadline,
                    std::string& error) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  if (is_ipv4(host)) {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &a->sin_addr);
    length = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET6, host.c_str(), &a->sin6_addr);
    length = sizeof(sockaddr_in6);
    family = AF_INET6;
  }
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = fmt::format("cannot create a socket: {}", std::strerror(errno));
    return {};
  }
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
    if (errno != EINPROGRESS && errno != EINTR) {
      error = fmt::format("cannot connect to {}: {}", describe(host, port), std::strerror(errno));
      return {};
    }
    if (!wait_for(fd.get(), POLLOUT, deadline)) {
      error = fmt::format("cannot connect to {}: {}", describe(host, port), std::strerror(errno));
      return {};
    }
    int so_error = 0;
    socklen_t so_length = sizeof so_error;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &so_length) != 0) so_error = errno;
    if (so_error != 0) {
      error =
          fmt::format("cannot connect to {}: {}", describe(host, port), std::strerror(so_error));
      return {};
    }
  }
  return fd;
}

bool send_all(int fd, std::string_view data, Clock::time_point deadline, std::string& error) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(fd, POLLOUT, deadline)) {
      continue;
    }
    error = fmt::format("cannot send the request: {}", std::strerror(errno));
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
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      error = buffer.empty() ? "connection closed without a response"
                             : "connection closed in the middle of the status line";
      return false;
    }
    if (errno == EINTR) continue;
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(fd, POLLIN, deadline)) continue;
    error = errno == ETIMEDOUT ? "no status line in time"
                               : fmt::format("cannot read the response: {}", std::strerror(errno));
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
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      total += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(fd, POLLIN, deadline)) {
      continue;
    }
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
  ProbeTarget parsed;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = fmt::format("unterminated IPv6 address in '{}'", authority);
      return false;
    }
    parsed.host = std::string(authority.substr(1, close - 1));
    if (!is_ipv6(parsed.host)) {
      error = fmt::format("'{}' is not an IPv6 address", parsed.host);
      return false;
    }
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = fmt::format("unexpected '{}' after the IPv6 address", after);
        return false;
      }
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const std::size_t colon = authority.find(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    if (equals_ignore_case(parsed.host, "localhost")) {
      parsed.host = "localhost";
    } else if (!is_ipv4(parsed.host)) {
      error = fmt::format(
          "host must be an IPv4 address, a bracketed IPv6 address or localhost, not '{}'",
          parsed.host);
      return false;
    }
  }
  if (has_port && !port_text.empty()) {  // "host:" means the default port (RFC 3986 3.2.3)
    unsigned port = 0;
    const auto [ptr, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      error = fmt::format("port must be a whole number in 1..65535, not '{}'", port_text);
      return false;
    }
    parsed.port = static_cast<int>(port);
  }
  if (target.empty()) {
    parsed.target = "/";
  } else if (target.front() == '?') {
    parsed.target = "/" + std::string(target);
  } else {
    parsed.target = std::string(target);
  }
  parsed.host_header = std::string(authority);
  if (has_port && port_text.empty()) parsed.host_header.pop_back();  // drop the bare ':'
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
