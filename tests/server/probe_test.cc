// --probe: URL and status-line parsing (pure), and the client against a one-shot fake server on
// an ephemeral loopback port (in-process, so it runs wherever the unit tests run).
#include "server/probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "server/unique_fd.h"

namespace cork {
namespace {

using std::chrono::milliseconds;

ProbeTarget parsed(const std::string& url) {
  ProbeTarget t;
  std::string error;
  EXPECT_TRUE(parse_probe_url(url, t, error)) << url << ": " << error;
  return t;
}

std::string error_for(const std::string& url) {
  ProbeTarget t;
  std::string error;
  EXPECT_FALSE(parse_probe_url(url, t, error)) << url;
  EXPECT_EQ(error.find('\n'), std::string::npos);
  return error;
}

TEST(ProbeUrl, Ipv4WithPortAndPath) {
  const ProbeTarget t = parsed("http://127.0.0.1:8080/health?x=1");
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 8080);
  EXPECT_EQ(t.target, "/health?x=1");
  EXPECT_EQ(t.host_header, "127.0.0.1:8080");
}

TEST(ProbeUrl, DefaultsPortAndPath) {
  const ProbeTarget t = parsed("http://127.0.0.1");
  EXPECT_EQ(t.port, 80);
  EXPECT_EQ(t.target, "/");
  EXPECT_EQ(t.host_header, "127.0.0.1");
  EXPECT_EQ(parsed("HTTP://127.0.0.1:/").port, 80);
  EXPECT_EQ(parsed("http://127.0.0.1:/").host_header, "127.0.0.1");
  EXPECT_EQ(parsed("http://127.0.0.1?q").target, "/?q");
  EXPECT_EQ(parsed("http://127.0.0.1/a#frag").target, "/a");
}

TEST(ProbeUrl, Ipv6InBrackets) {
  const ProbeTarget t = parsed("http://[::1]:9000/");
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.port, 9000);
  EXPECT_EQ(t.host_header, "[::1]:9000");
  EXPECT_EQ(parsed("http://[::1]").port, 80);
}

TEST(ProbeUrl, Localhost) {
  const ProbeTarget t = parsed("http://LocalHost:8080");
  EXPECT_EQ(t.host, "localhost");
  EXPECT_EQ(t.host_header, "LocalHost:8080");
}

TEST(ProbeUrl, RejectsWhatItCannotProbe) {
  EXPECT_NE(error_for("https://127.0.0.1/").find("not an http:// URL"), std::string::npos);
  EXPECT_NE(error_for("127.0.0.1:8080").find("not an http:// URL"), std::string::npos);
  EXPECT_NE(error_for("http://example.com/").find("host must be"), std::string::npos);
  EXPECT_NE(error_for("http:///").find("host must be"), std::string::npos);
  EXPECT_NE(error_for("http://::1:80/").find("host must be"), std::string::npos);
  EXPECT_NE(error_for("http://[::1/").find("unterminated"), std::string::npos);
  EXPECT_NE(error_for("http://[127.0.0.1]/").find("not an IPv6"), std::string::npos);
  EXPECT_NE(error_for("http://[::1]x/").find("after the IPv6"), std::string::npos);
  EXPECT_NE(error_for("http://127.0.0.1:0/").find("port must be"), std::string::npos);
  EXPECT_NE(error_for("http://127.0.0.1:65536/").find("port must be"), std::string::npos);
  EXPECT_NE(error_for("http://127.0.0.1:80x/").find("port must be"), std::string::npos);
  EXPECT_NE(error_for("http://127.0.0.1:-1/").find("port must be"), std::string::npos);
  EXPECT_NE(error_for("http://u:p@127.0.0.1/").find("user information"), std::string::npos);
  EXPECT_NE(error_for("http://127.0.0.1/a b").find("spaces"), std::string::npos);
  EXPECT_NE(error_for("http://127.0.0.1/a\r\nX: y").find("control"), std::string::npos);
}

TEST(ProbeStatusLine, Parses) {
  EXPECT_EQ(parse_status_line("HTTP/1.1 200 OK"), 200);
  EXPECT_EQ(parse_status_line("HTTP/1.0 301 Moved Permanently"), 301);
  EXPECT_EQ(parse_status_line("HTTP/1.1 503 "), 503);
  EXPECT_EQ(parse_status_line("HTTP/1.1 204"), 204);
  EXPECT_EQ(parse_status_line(""), -1);
  EXPECT_EQ(parse_status_line("HTTP/2 200 OK"), -1);
  EXPECT_EQ(parse_status_line("HTTP/1.1 20 OK"), -1);
  EXPECT_EQ(parse_status_line("HTTP/1.1 2000 OK"), -1);
  EXPECT_EQ(parse_status_line("HTTP/1.1  200 OK"), -1);
  EXPECT_EQ(parse_status_line("HTTP/1.1 099 OK"), -1);
  EXPECT_EQ(parse_status_line("SSH-2.0-OpenSSH_9.2"), -1);
}

// A listening socket on 127.0.0.1, port chosen by the kernel.
struct Listener {
  UniqueFd fd;
  int port = 0;
};

Listener listen_loopback() {
  Listener l;
  l.fd = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(l.fd);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(l.fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::listen(l.fd.get(), 4), 0);
  socklen_t len = sizeof a;
  EXPECT_EQ(::getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
  l.port = ntohs(a.sin_port);
  return l;
}

// Reads until the end of a request head (or EOF).
std::string read_head(int fd) {
  std::string head;
  char buf[512];
  while (head.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<std::size_t>(n));
  }
  return head;
}

// Serves one connection: reads the request head, answers `reply` (unless empty), closes.
// Returns the request head it read.
std::string serve_once(int listen_fd, const std::string& reply) {
  UniqueFd c(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
  if (!c) return {};
  const std::string head = read_head(c.get());
  if (!reply.empty()) (void)::send(c.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
  return head;
}

bool probe_port(int port, std::string& error, milliseconds timeout = milliseconds(3000)) {
  ProbeTarget t;
  EXPECT_TRUE(parse_probe_url("http://127.0.0.1:" + std::to_string(port) + "/ok", t, error));
  return probe(t, timeout, error);
}

TEST(Probe, SucceedsOn2xxAndSendsAMinimalRequest) {
  Listener l = listen_loopback();
  std::string head;
  std::thread server(
      [&] { head = serve_once(l.fd.get(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); });
  std::string error;
  EXPECT_TRUE(probe_port(l.port, error)) << error;
  server.join();
  EXPECT_EQ(head.rfind("GET /ok HTTP/1.1\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("\r\nHost: 127.0.0.1:" + std::to_string(l.port) + "\r\n"), std::string::npos);
  EXPECT_NE(head.find("\r\nConnection: close\r\n"), std::string::npos);
}

TEST(Probe, SucceedsOn3xxWithAStatusLineInPieces) {
  Listener l = listen_loopback();
  std::thread server([&] {
    UniqueFd c(::accept4(l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
    read_head(c.get());
    for (const char* piece : {"HTTP/1.1 30", "1 Moved", "\r\nLocation: /x/\r\n\r\n"}) {
      (void)::send(c.get(), piece, std::strlen(piece), MSG_NOSIGNAL);
      std::this_thread::sleep_for(milliseconds(20));
    }
  });
  std::string error;
  EXPECT_TRUE(probe_port(l.port, error)) << error;
  server.join();
}

TEST(Probe, FailsOnErrorStatus) {
  Listener l = listen_loopback();
  std::thread server([&] {
    serve_once(l.fd.get(), "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  });
  std::string error;
  EXPECT_FALSE(probe_port(l.port, error));
  server.join();
  EXPECT_EQ(error, "status 503 Service Unavailable");
}

TEST(Probe, FailsOnGarbageAndOnAnEarlyClose) {
  Listener l = listen_loopback();
  std::thread server([&] {
    serve_once(l.fd.get(), "SSH-2.0-OpenSSH_9.2\r\n");
    serve_once(l.fd.get(), "");
  });
  std::string error;
  EXPECT_FALSE(probe_port(l.port, error));
  EXPECT_NE(error.find("not an HTTP/1.x status line"), std::string::npos) << error;
  EXPECT_FALSE(probe_port(l.port, error));
  EXPECT_EQ(error, "connection closed without a response");
  server.join();
}

TEST(Probe, FailsWhenNothingListens) {
  int port = 0;
  {
    Listener l = listen_loopback();
    port = l.port;
  }  // closed: connecting is refused
  std::string error;
  EXPECT_FALSE(probe_port(port, error));
  EXPECT_NE(error.find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << error;
}

TEST(Probe, TimesOutOnASilentServer) {
  Listener l = listen_loopback();  // the kernel completes the handshake; nobody ever answers
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(probe_port(l.port, error, milliseconds(200)));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(error, "no status line in time");
  EXPECT_GE(took, milliseconds(190));
  EXPECT_LT(took, milliseconds(2000));
}

TEST(Probe, RunProbeReturnsExitStatus) {
  EXPECT_EQ(run_probe("ftp://127.0.0.1/", milliseconds(100)), 1);
  Listener l = listen_loopback();
  std::thread server([&] { serve_once(l.fd.get(), "HTTP/1.1 204 No Content\r\n\r\n"); });
  EXPECT_EQ(run_probe("http://localhost:" + std::to_string(l.port) + "/", milliseconds(3000)), 0);
  server.join();
}

}  // namespace
}  // namespace cork
