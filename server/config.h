// cork's configuration: the INI file (inih) and the command line, validated into one value.
// Every key has a default, so an empty file works. Errors read "path:line: message".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/compression.h"

namespace cork {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Which symlinks beneath the root are followed: only those whose target stays inside the root
// (checked by the kernel during the open, no TOCTOU gap), all of them, or none.
enum class SymlinkPolicy { kInside, kOn, kOff };

// Copyable value.
struct Config {
  // [server]
  std::string host = "0.0.0.0";
  int port = 8080;  // 0 = an ephemeral port chosen by the kernel (tests use it)
  std::string root = "www";
  unsigned threads = 0;  // 0 = one per CPU
  std::size_t queue_capacity = 4096;
  std::size_t max_connections = 10000;
  int backlog = 1024;
  std::string status_path;   // empty = no status page; else e.g. "/.cork/status"
  std::string status_allow;  // networks allowed to see it; empty = loopback only
  // [http]
  std::string index = "index.html";
  // Timeouts in milliseconds. The file says "10" (seconds), "10s" or "250ms".
  std::int64_t keepalive_timeout_ms = 15'000;  // 0 disables keep-alive
  std::int64_t header_timeout_ms = 10'000;
  std::size_t max_headers = 100;
  // Sizes in bytes. The file says "16384", "16K", "1M" or "1G" (binary multiples).
  std::size_t max_request_line = 8192;
  std::size_t max_header_bytes = 16384;
  // The longest request body cork reads (and throws away) before answering; a longer
  // Content-Length, or a chunked body that goes past it, is not read and the answer closes the
  // connection (server/connection.cc: "Request bodies").
  std::uint64_t max_discard_body = 64 * 1024;
  std::int64_t send_timeout_ms = 60'000;  // without progress while sending, before a close
  SymlinkPolicy follow_symlinks = SymlinkPolicy::kInside;
  std::size_t max_ranges = 64;  // more ranges in one Range field -> the whole file (200)
  std::string cache_control;    // sent verbatim on 200, 206 and 304 when not empty
  // The open-file cache: files at most (0 = no cache), and the bytes of small files it keeps in
  // memory at most. Its descriptors are bounded by the descriptor budget too
  // (server/descriptor_budget.h).
  std::size_t file_cache_entries = 4096;
  std::size_t file_cache_memory = std::size_t{64} << 20;
  bool precompressed = true;  // serve file.br / file.gz beside file when the client accepts it
  // On-the-fly compression (the compress* keys): what, how, and within which sizes. Each file is
  // compressed once per coding and level (server/compressor.h).
  CompressionPolicy compression;
  // Bytes of compressed copies kept in memory at most. Read at start-up only.
  std::size_t compress_cache_size = std::size_t{64} << 20;
  bool autoindex = false;  // list directories that have no index file
  // off: open files by the O_NOFOLLOW walk even where openat2 works (the fallback, testable).
  // Read at start-up only, like the listener's keys.
  bool openat2 = true;
  // [log]
  LogLevel level = LogLevel::kInfo;
  std::string access_log = "-";  // "-" = stdout, "off", or a path
  std::string error_log = "-";   // "-" = stderr, or a path
};

// Parses INI text. `name` is used in error messages. On error returns false and sets `error` to
// "name:line: message". Unknown sections or keys and bad values are errors.
bool parse_config(std::string_view text, const std::string& name, Config& config,
                  std::string& error);

// Reads and parses a file (error "path: cannot read: reason" when it cannot be opened).
bool load_config_file(const std::string& path, Config& config, std::string& error);

// Command-line options. Copyable value.
struct CommandLine {
  std::string config_path;  // empty = built-in defaults
  std::string port;         // empty = from the file
  std::string root;
  std::string threads;
  std::string probe_url;  // --probe URL: health-check a running server and exit (server/probe.h)
  bool check = false;
  bool version = false;
  bool help = false;
};

// Parses argv. On error returns false and sets `error`.
bool parse_command_line(int argc, const char* const* argv, CommandLine& out, std::string& error);

// Applies -p/-r/--threads over the file's values, validating them like the file's.
bool apply_command_line(const CommandLine& cli, Config& config, std::string& error);

std::string_view usage_text();

}  // namespace cork
