// `cork --probe URL`: a tiny HTTP/1.1 GET client for container health checks (Docker
// HEALTHCHECK, Kubernetes exec probes), so that the runtime image needs no curl. It connects to
// the host and port of an http:// URL, sends one GET with Host and Connection: close, and
// succeeds on a 2xx or 3xx status line within the timeout.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace cork {

// What a probe URL names. Copyable value.
struct ProbeTarget {
  std::string host;         // "127.0.0.1", "::1" (no brackets) or "localhost"
  int port = 80;            // 1..65535
  std::string target;       // request target: path and query, "/" when the URL has none
  std::string host_header;  // Host field value: as written in the URL ("[::1]:8080")
};

// Parses "http://HOST[:PORT][/PATH][?QUERY]" (a "#fragment" is dropped). HOST is an IPv4
// address, a bracketed IPv6 address or "localhost": no name lookups, so a probe can never hang
// on DNS. Pure function. On error returns false and sets `error` (one line).
bool parse_probe_url(std::string_view url, ProbeTarget& out, std::string& error);

// Returns the status code of an HTTP/1.x status line ("HTTP/1.1 200 OK", no CRLF), or -1 when
// `line` is not one. Pure function.
int parse_status_line(std::string_view line);

// Performs the probe within `timeout` (connect, send and the status line together). Returns true
// on a 2xx/3xx status; otherwise false with `error` set to one line. "localhost" tries 127.0.0.1,
// then ::1.
bool probe(const ProbeTarget& target, std::chrono::milliseconds timeout, std::string& error);

// The whole `--probe URL` command: parses, probes, prints one line on stderr on failure.
// Returns the exit status: 0 healthy, 1 otherwise (what Docker's HEALTHCHECK expects).
int run_probe(std::string_view url,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

}  // namespace cork
