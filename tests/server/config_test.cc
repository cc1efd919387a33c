// Config: defaults, every key, every bad value with its line number, and the command line.
#include "server/config.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cork {
namespace {

std::string error_for(const std::string& text) {
  Config c;
  std::string error;
  EXPECT_FALSE(parse_config(text, "cork.ini", c, error)) << text;
  return error;
}

TEST(Config, EmptyFileGivesDefaults) {
  Config c;
  std::string error;
  ASSERT_TRUE(parse_config("", "cork.ini", c, error)) << error;
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.root, "www");
  EXPECT_EQ(c.threads, 0u);
  EXPECT_EQ(c.queue_capacity, 4096u);
  EXPECT_EQ(c.max_connections, 10000u);
  EXPECT_EQ(c.backlog, 1024);
  EXPECT_EQ(c.index, "index.html");
  EXPECT_EQ(c.keepalive_timeout_ms, 15'000);
  EXPECT_EQ(c.header_timeout_ms, 10'000);
  EXPECT_EQ(c.max_request_line, 8192u);
  EXPECT_EQ(c.max_header_bytes, 16384u);
  EXPECT_EQ(c.max_headers, 100u);
  EXPECT_EQ(c.max_discard_body, 64u * 1024);
  EXPECT_EQ(c.max_ranges, 64u);  // zsync asks for 20 ranges at a time
  EXPECT_EQ(c.file_cache_entries, 4096u);
  EXPECT_EQ(c.file_cache_memory, std::size_t{64} << 20);
  EXPECT_EQ(c.send_timeout_ms, 60'000);
  EXPECT_EQ(c.follow_symlinks, SymlinkPolicy::kInside);
  EXPECT_EQ(c.cache_control, "");
  EXPECT_TRUE(c.precompressed);
  EXPECT_FALSE(c.autoindex);
  EXPECT_EQ(c.level, LogLevel::kInfo);
  EXPECT_EQ(c.access_log, "-");
  EXPECT_EQ(c.error_log, "-");
}

TEST(Config, ReadsEveryKey) {
  const std::string text =
      "; comment\n[server]\nhost = 127.0.0.1\nport = 9000\nroot = /srv/www\nthreads = 3\n"
      "queue_capacity = 10\nmax_connections = 20\nbacklog = 30\n"
      "[http]\nindex = home.html\nkeepalive_timeout = 5\nheader_timeout = 7\n"
      "max_request_line = 1000\nmax_header_bytes = 2000\nmax_headers = 40\n"
      "max_discard_body = 1M\n"
      "[log]\nlevel = debug\naccess_log = off\nerror_log = /tmp/e.log\n";
  Config c;
  std::string error;
  ASSERT_TRUE(parse_config(text, "cork.ini", c, error)) << error;
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.root, "/srv/www");
  EXPECT_EQ(c.threads, 3u);
  EXPECT_EQ(c.queue_capacity, 10u);
  EXPECT_EQ(c.max_connections, 20u);
  EXPECT_EQ(c.backlog, 30);
  EXPECT_EQ(c.index, "home.html");
  EXPECT_EQ(c.keepalive_timeout_ms, 5000);
  EXPECT_EQ(c.header_timeout_ms, 7000);
  EXPECT_EQ(c.max_request_line, 1000u);
  EXPECT_EQ(c.max_header_bytes, 2000u);
  EXPECT_EQ(c.max_headers, 40u);
  EXPECT_EQ(c.max_discard_body, 1u << 20);
  EXPECT_EQ(c.level, LogLevel::kDebug);
  EXPECT_EQ(c.access_log, "off");
  EXPECT_EQ(c.error_log, "/tmp/e.log");
}

TEST(Config, AcceptsIpv6AndLocalhost) {
  Config c;
  std::string error;
  EXPECT_TRUE(parse_config("[server]\nhost = ::1\n", "f", c, error)) << error;
  EXPECT_TRUE(parse_config("[server]\nhost = localhost\n", "f", c, error)) << error;
}

TEST(Config, BadValuesNameTheirLine) {
  EXPECT_EQ(error_for("[server]\n\nport = 70000\n"),
            "cork.ini:3: port must be a whole number in 0..65535, not '70000'");
  EXPECT_EQ(error_for("[server]\nport = -1\n").rfind("cork.ini:2: port", 0), 0u);
  EXPECT_EQ(error_for("[server]\nport = 80x\n").rfind("cork.ini:2: port", 0), 0u);
  EXPECT_EQ(error_for("[server]\nport =\n").rfind("cork.ini:2: port", 0), 0u);
  EXPECT_EQ(error_for("[server]\nhost = example.com\n").rfind("cork.ini:2: host", 0), 0u);
  EXPECT_EQ(error_for("[server]\nthreads = many\n").rfind("cork.ini:2: threads", 0), 0u);
  EXPECT_EQ(error_for("[server]\nqueue_capacity = 0\n").rfind("cork.ini:2: queue_capacity", 0), 0u);
  EXPECT_EQ(error_for("[server]\nmax_connections = 0\n").rfind("cork.ini:2: max_connections", 0),
            0u);
  EXPECT_EQ(error_for("[server]\nbacklog = 0\n").rfind("cork.ini:2: backlog", 0), 0u);
  EXPECT_EQ(error_for("[server]\nroot =\n").rfind("cork.ini:2: root", 0), 0u);
  EXPECT_EQ(error_for("[http]\nindex = a/b.html\n").rfind("cork.ini:2: index", 0), 0u);
  EXPECT_EQ(error_for("[http]\nkeepalive_timeout = 1.5\n").rfind("cork.ini:2: keepalive", 0), 0u);
  EXPECT_EQ(error_for("[http]\nheader_timeout = 0\n").rfind("cork.ini:2: header_timeout", 0), 0u);
  EXPECT_EQ(error_for("[http]\nmax_request_line = 10\n").rfind("cork.ini:2: max_request_line", 0),
            0u);
  EXPECT_EQ(error_for("[http]\nmax_header_bytes = x\n").rfind("cork.ini:2: max_header_bytes", 0),
            0u);
  EXPECT_EQ(error_for("[http]\nmax_headers = 0\n").rfind("cork.ini:2: max_headers", 0), 0u);
  EXPECT_EQ(error_for("[http]\nmax_ranges = 0\n").rfind("cork.ini:2: max_ranges", 0), 0u);
  EXPECT_EQ(error_for("[http]\nprecompressed = yes\n"),
            "cork.ini:2: precompressed must be on or off, not 'yes'");
  EXPECT_EQ(error_for("[http]\nautoindex = 1\n").rfind("cork.ini:2: autoindex", 0), 0u);
  EXPECT_EQ(error_for("[log]\nlevel = loud\n").rfind("cork.ini:2: level", 0), 0u);
  EXPECT_EQ(error_for("[log]\nerror_log = off\n").rfind("cork.ini:2: error_log", 0), 0u);
}

TEST(Config, CachingKeys) {
  Config c;
  std::string error;
  ASSERT_TRUE(
      parse_config("[http]\nmax_ranges = 3\ncache_control = public, max-age=60\n"
                   "precompressed = off\nautoindex = on\n",
                   "cork.ini", c, error))
      << error;
  EXPECT_EQ(c.max_ranges, 3u);
  EXPECT_EQ(c.cache_control, "public, max-age=60");
  EXPECT_FALSE(c.precompressed);
  EXPECT_TRUE(c.autoindex);
  ASSERT_TRUE(
      parse_config("[http]\nsend_timeout = 5\nfollow_symlinks = off\n", "cork.ini", c, error))
      << error;
  EXPECT_EQ(c.send_timeout_ms, 5000);
  EXPECT_EQ(c.follow_symlinks, SymlinkPolicy::kOff);
  ASSERT_TRUE(parse_config("[http]\nfollow_symlinks = on\n", "cork.ini", c, error)) << error;
  EXPECT_EQ(c.follow_symlinks, SymlinkPolicy::kOn);
  EXPECT_EQ(error_for("[http]\nfollow_symlinks = yes\n"),
            "cork.ini:2: follow_symlinks must be inside, on or off, not 'yes'");
  EXPECT_EQ(error_for("[http]\nsend_timeout = 0\n").rfind("cork.ini:2: send_timeout", 0), 0u);
  ASSERT_TRUE(parse_config("[http]\ncache_control =\n", "cork.ini", c, error)) << error;
  EXPECT_EQ(c.cache_control, "");
}

constexpr const char* kTimeoutKeys[] = {"header_timeout", "keepalive_timeout", "send_timeout"};

std::int64_t timeout_ms(const Config& c, std::string_view key) {
  if (key == "header_timeout") return c.header_timeout_ms;
  if (key == "keepalive_timeout") return c.keepalive_timeout_ms;
  return c.send_timeout_ms;
}

// A plain number is seconds; "s" and "ms" say the unit. Stored as milliseconds.
TEST(Config, CompressionKeys) {
  Config c;
  EXPECT_TRUE(c.compression.enabled);
  EXPECT_EQ(c.compression.codings,
            (std::vector<Coding>{Coding::kBrotli, Coding::kZstd, Coding::kGzip}));
  EXPECT_EQ(c.compression.min_size, 256u);
  EXPECT_EQ(c.compression.max_size, 8u << 20);
  EXPECT_EQ(c.compress_cache_size, 64u << 20);
  std::string error;
  ASSERT_TRUE(
      parse_config("[http]\ncompress = off\ncompress_codings = gzip, BR\n"
                   "compress_level_br = 11\ncompress_level_zstd = 19\n"
                   "compress_level_gzip = 1\ncompress_types = text/*, application/json\n"
                   "compress_min_size = 1K\ncompress_max_size = 2M\n"
                   "compress_cache_size = 16M\ncompress_second_pass = on\n",
                   "cork.ini", c, error))
      << error;
  EXPECT_FALSE(c.compression.enabled);
  EXPECT_EQ(c.compression.codings, (std::vector<Coding>{Coding::kGzip, Coding::kBrotli}));
  EXPECT_EQ(c.compression.level_br, 11);
  EXPECT_EQ(c.compression.level_zstd, 19);
  EXPECT_EQ(c.compression.level_gzip, 1);
  EXPECT_EQ(c.compression.types, (std::vector<std::string>{"text/*", "application/json"}));
  EXPECT_EQ(c.compression.min_size, 1024u);
  EXPECT_EQ(c.compression.max_size, 2u << 20);
  EXPECT_EQ(c.compress_cache_size, 16u << 20);
  EXPECT_TRUE(c.compression.second_pass);
  ASSERT_TRUE(parse_config("[http]\ncompress_codings =\ncompress_types =\n", "cork.ini", c, error))
      << error;
  EXPECT_TRUE(c.compression.codings.empty()) << "no coding: nothing compressed";
  EXPECT_TRUE(c.compression.types.empty());
}

TEST(Config, BadCompressionKeysNameTheirLineOrKeys) {
  EXPECT_EQ(error_for("[http]\ncompress_codings = br, deflate\n"),
            "cork.ini:2: compress_codings: 'deflate' is not br, zstd or gzip");
  EXPECT_EQ(error_for("[http]\ncompress_codings = br, br\n"),
            "cork.ini:2: compress_codings: 'br' is listed twice");
  EXPECT_EQ(error_for("[http]\ncompress_codings = br,,gzip\n"),
            "cork.ini:2: compress_codings has an empty element");
  EXPECT_EQ(error_for("[http]\ncompress_level_br = 12\n").rfind("cork.ini:2: compress_level_br", 0),
            0u);
  EXPECT_EQ(
      error_for("[http]\ncompress_level_gzip = 0\n").rfind("cork.ini:2: compress_level_gzip", 0),
      0u);
  EXPECT_EQ(
      error_for("[http]\ncompress_level_zstd = 23\n").rfind("cork.ini:2: compress_level_zstd", 0),
      0u);
  for (const char* bad :
       {"text", "text/", "/html", "te*t/html", "text/ht*", "a/b/c", "a b/c", "*/*", "text*/*"}) {
    EXPECT_EQ(error_for(std::string("[http]\ncompress_types = ") + bad + "\n"),
              std::string("cork.ini:2: compress_types: '") + bad +
                  "' is not a media type (type/subtype or type/*)")
        << bad;
  }
  EXPECT_EQ(error_for("[http]\ncompress_min_size = 2M\ncompress_max_size = 1M\n"),
            "cork.ini: compress_min_size (2097152) is above compress_max_size (1048576)");
  EXPECT_EQ(error_for("[http]\ncompress_cache_size = 1M\n"),
            "cork.ini: compress_max_size (8388608) is above compress_cache_size (1048576): a "
            "copy might not fit");
  Config off;
  std::string error;
  EXPECT_TRUE(
      parse_config("[http]\ncompress = off\ncompress_cache_size = 1M\n", "cork.ini", off, error))
      << "off: no copies to fit; " << error;
  EXPECT_EQ(error_for("[http]\ncompress = maybe\n"),
            "cork.ini:2: compress must be on or off, not 'maybe'");
}

// The shipped conf/cork.ini documents every key with its default: reading it must give the
// built-in defaults (and fit inih's line length, which cuts longer lines).
TEST(Config, TheShippedFileStatesTheDefaults) {
  Config shipped;
  std::string error;
  ASSERT_TRUE(load_config_file(std::string(CORK_SOURCE_DIR) + "/conf/cork.ini", shipped, error))
      << error;
  const Config defaults;
  EXPECT_EQ(shipped.compression.codings, defaults.compression.codings);
  EXPECT_EQ(shipped.compression.types, defaults.compression.types);
  EXPECT_EQ(shipped.compression.level_br, defaults.compression.level_br);
  EXPECT_EQ(shipped.compression.level_zstd, defaults.compression.level_zstd);
  EXPECT_EQ(shipped.compression.level_gzip, defaults.compression.level_gzip);
  EXPECT_EQ(shipped.compression.min_size, defaults.compression.min_size);
  EXPECT_EQ(shipped.compression.max_size, defaults.compression.max_size);
  EXPECT_EQ(shipped.compression.enabled, defaults.compression.enabled);
  EXPECT_EQ(shipped.compression.second_pass, defaults.compression.second_pass);
  EXPECT_EQ(shipped.compress_cache_size, defaults.compress_cache_size);
  EXPECT_EQ(shipped.file_cache_entries, defaults.file_cache_entries);
  EXPECT_EQ(shipped.file_cache_memory, defaults.file_cache_memory);
  EXPECT_EQ(shipped.precompressed, defaults.precompressed);
  EXPECT_EQ(shipped.max_ranges, defaults.max_ranges);
  EXPECT_EQ(shipped.keepalive_timeout_ms, defaults.keepalive_timeout_ms);
  EXPECT_EQ(shipped.port, defaults.port);
}

TEST(Config, TimeoutsTakeSecondsOrMilliseconds) {
  struct Case {
    const char* value;
    std::int64_t ms;
  };
  const Case cases[] = {
      {"10", 10'000},   {"2s", 2000},          {"250ms", 250},         {"1ms", 1},
      {"1500ms", 1500}, {"86400", 86'400'000}, {"86400s", 86'400'000}, {"86400000ms", 86'400'000}};
  for (const Case& t : cases) {
    for (const char* key : kTimeoutKeys) {
      SCOPED_TRACE(std::string(key) + " = " + t.value);
      Config c;
      std::string error;
      ASSERT_TRUE(parse_config(std::string("[http]\n") + key + " = " + t.value + "\n", "cork.ini",
                               c, error))
          << error;
      EXPECT_EQ(timeout_ms(c, key), t.ms);
    }
  }
}

// keepalive_timeout = 0 (in any unit) turns keep-alive off; the other two must be positive.
TEST(Config, OnlyKeepaliveTimeoutMayBeZero) {
  for (const char* zero : {"0", "0s", "0ms"}) {
    SCOPED_TRACE(zero);
    Config c;
    std::string error;
    ASSERT_TRUE(parse_config(std::string("[http]\nkeepalive_timeout = ") + zero + "\n", "cork.ini",
                             c, error))
        << error;
    EXPECT_EQ(c.keepalive_timeout_ms, 0);
    for (const char* key : {"header_timeout", "send_timeout"}) {
      EXPECT_EQ(error_for(std::string("[http]\n") + key + " = " + zero + "\n")
                    .rfind(std::string("cork.ini:2: ") + key + " must be", 0),
                0u)
          << key;
    }
  }
}

TEST(Config, BadTimeoutsNameTheirLine) {
  EXPECT_EQ(error_for("[http]\n\nheader_timeout = soon\n"),
            "cork.ini:3: header_timeout must be whole seconds (10, 10s) or milliseconds (250ms) in "
            "1ms..86400s, not 'soon'");
  EXPECT_EQ(error_for("[http]\nkeepalive_timeout = -1\n"),
            "cork.ini:2: keepalive_timeout must be whole seconds (10, 10s) or milliseconds (250ms) "
            "in 0..86400s, not '-1'");
  // Signs, fractions, spaces, other units, a unit alone, more than a day, and numbers too large
  // for any integer type: all refused, none wraps around.
  const char* const bad_values[] = {"-1ms",
                                    "+5",
                                    "1.5",
                                    "1.5s",
                                    "10 ms",
                                    "10 s",
                                    "ms",
                                    "s",
                                    "10m",
                                    "10min",
                                    "1h",
                                    "10MS",
                                    "10S",
                                    "5sms",
                                    "0x10",
                                    "86401",
                                    "86401s",
                                    "86400001ms",
                                    "9223372036854775807",
                                    "9223372036854775808ms",
                                    "99999999999999999999999",
                                    "18446744073709551616s"};
  for (const char* bad : bad_values) {
    for (const char* key : kTimeoutKeys) {
      SCOPED_TRACE(std::string(key) + " = " + bad);
      EXPECT_EQ(error_for(std::string("[http]\n") + key + " = " + bad + "\n")
                    .rfind(std::string("cork.ini:2: ") + key + " must be", 0),
                0u);
    }
  }
}

constexpr const char* kSizeKeys[] = {"max_request_line", "max_header_bytes", "max_discard_body",
                                     "file_cache_memory"};

std::uint64_t size_of(const Config& c, std::string_view key) {
  if (key == "max_request_line") return c.max_request_line;
  if (key == "max_header_bytes") return c.max_header_bytes;
  if (key == "file_cache_memory") return c.file_cache_memory;
  return c.max_discard_body;
}

// A plain number is bytes; K, M and G (either case) are binary multiples, as nginx reads them.
TEST(Config, SizesTakeBytesOrKMG) {
  struct Case {
    const char* value;
    std::uint64_t bytes;
  };
  const Case cases[] = {{"4096", 4096},      {"4K", 4096},         {"4k", 4096},
                        {"64K", 65536},      {"1M", 1u << 20},     {"1m", 1u << 20},
                        {"1024K", 1u << 20}, {"1048576", 1u << 20}};
  for (const Case& t : cases) {
    for (const char* key : kSizeKeys) {
      SCOPED_TRACE(std::string(key) + " = " + t.value);
      Config c;
      std::string error;
      ASSERT_TRUE(parse_config(std::string("[http]\n") + key + " = " + t.value + "\n", "cork.ini",
                               c, error))
          << error;
      EXPECT_EQ(size_of(c, key), t.bytes);
    }
  }
  Config c;
  std::string error;
  ASSERT_TRUE(parse_config("[http]\nmax_discard_body = 64G\n", "cork.ini", c, error)) << error;
  EXPECT_EQ(c.max_discard_body, std::uint64_t{64} << 30);
  ASSERT_TRUE(parse_config("[http]\nmax_discard_body = 0\n", "cork.ini", c, error)) << error;
  EXPECT_EQ(c.max_discard_body, 0u) << "0: no body is ever read";
}

TEST(Config, BadSizesNameTheirLine) {
  EXPECT_EQ(error_for("[http]\n\nmax_discard_body = lots\n"),
            "cork.ini:3: max_discard_body must be a size in bytes (65536, 64K, 1M) in 0..64G, not "
            "'lots'");
  EXPECT_EQ(error_for("[http]\nmax_header_bytes = 2M\n"),
            "cork.ini:2: max_header_bytes must be a size in bytes (65536, 64K, 1M) in 256..1M, not "
            "'2M'");
  EXPECT_EQ(error_for("[http]\nmax_request_line = 32\n"),
            "cork.ini:2: max_request_line must be a size in bytes (65536, 64K, 1M) in 64..1M, not "
            "'32'");
  // Signs, fractions, spaces, other units, a unit alone, over the bound, and numbers too large
  // for any integer type (also once multiplied): all refused, none wraps around.
  const char* const bad_values[] = {"-1",
                                    "+5",
                                    "1.5K",
                                    "64 K",
                                    "K",
                                    "1T",
                                    "1KB",
                                    "1KiB",
                                    "0x10",
                                    "65G",
                                    "68719476737",
                                    "16777216G",
                                    "99999999999999999999999",
                                    "18446744073709551616"};
  for (const char* bad : bad_values) {
    for (const char* key : kSizeKeys) {
      SCOPED_TRACE(std::string(key) + " = " + bad);
      const std::string error = error_for(std::string("[http]\n") + key + " = " + bad + "\n");
      EXPECT_EQ(error.rfind(std::string("cork.ini:2: ") + key + " must be", 0), 0u) << error;
    }
  }
}

TEST(Config, FileCacheKeysTakeACountAndASize) {
  Config c;
  std::string error;
  ASSERT_TRUE(parse_config("[http]\nfile_cache_entries = 0\nfile_cache_memory = 512K\n", "cork.ini",
                           c, error))
      << error;
  EXPECT_EQ(c.file_cache_entries, 0u);
  EXPECT_EQ(c.file_cache_memory, 512u * 1024);
  for (auto [text, bytes] : {std::pair{"0", 0ull},
                             {"65536", 65536ull},
                             {"16M", 16ull << 20},
                             {"1G", 1ull << 30},
                             {"2k", 2048ull}}) {
    ASSERT_TRUE(parse_config(std::string("[http]\nfile_cache_memory = ") + text + "\n", "cork.ini",
                             c, error))
        << text << ": " << error;
    EXPECT_EQ(c.file_cache_memory, bytes) << text;
  }
  for (const char* bad : {"", "M", "1.5M", "-1", "64MB", "1T", "65G"}) {
    EXPECT_EQ(error_for(std::string("[http]\nfile_cache_memory = ") + bad + "\n")
                  .rfind("cork.ini:2: file_cache_memory must be a size", 0),
              0u)
        << "'" << bad << "'";
  }
  EXPECT_EQ(error_for("[http]\nfile_cache_entries = 1000001\n")
                .rfind("cork.ini:2: file_cache_entries", 0),
            0u);
}

TEST(Config, UnknownKeysAndSectionsAreErrors) {
  EXPECT_EQ(error_for("[server]\nport = 80\nprot = 81\n"),
            "cork.ini:3: unknown key 'prot' in [server]");
  EXPECT_EQ(error_for("[servers]\nport = 80\n").rfind("cork.ini:2: unknown section [servers]", 0),
            0u);
  EXPECT_EQ(error_for("port = 80\n").rfind("cork.ini:1: unknown section []", 0), 0u);
  EXPECT_EQ(error_for("[server\nport = 80\n").rfind("cork.ini:1:", 0), 0u);
}

TEST(Config, ReportsTheFirstErrorAndKeepsTheOldConfig) {
  Config c;
  c.port = 1234;
  std::string error;
  EXPECT_FALSE(parse_config("[server]\nport = 1\nport = x\nbacklog = y\n", "f.ini", c, error));
  EXPECT_EQ(error.rfind("f.ini:3: port", 0), 0u);
  EXPECT_EQ(c.port, 1234);
}

TEST(Config, MissingFileIsOneLine) {
  Config c;
  std::string error;
  EXPECT_FALSE(load_config_file("/nonexistent/cork.ini", c, error));
  EXPECT_EQ(error.rfind("/nonexistent/cork.ini: cannot read config", 0), 0u);
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST(CommandLine, ParsesAndAppliesOverrides) {
  const char* argv[] = {"cork", "-c",   "x.ini",     "-p", "9090",
                        "-r",   "/srv", "--threads", "2",  "--check"};
  CommandLine cli;
  std::string error;
  ASSERT_TRUE(parse_command_line(10, argv, cli, error)) << error;
  EXPECT_EQ(cli.config_path, "x.ini");
  EXPECT_TRUE(cli.check);
  Config c;
  ASSERT_TRUE(apply_command_line(cli, c, error)) << error;
  EXPECT_EQ(c.port, 9090);
  EXPECT_EQ(c.root, "/srv");
  EXPECT_EQ(c.threads, 2u);
}

TEST(CommandLine, RejectsBadOptionsAndValues) {
  CommandLine cli;
  std::string error;
  const char* unknown[] = {"cork", "--frobnicate"};
  EXPECT_FALSE(parse_command_line(2, unknown, cli, error));
  const char* missing[] = {"cork", "-p"};
  EXPECT_FALSE(parse_command_line(2, missing, cli, error));
  const char* bad_port[] = {"cork", "-p", "http"};
  CommandLine cli2;
  ASSERT_TRUE(parse_command_line(3, bad_port, cli2, error));
  Config c;
  EXPECT_FALSE(apply_command_line(cli2, c, error));
  EXPECT_EQ(error.rfind("-p: port", 0), 0u);
}

TEST(CommandLine, ProbeTakesAUrl) {
  const char* argv[] = {"cork", "--probe", "http://127.0.0.1:8080/"};
  CommandLine cli;
  std::string error;
  ASSERT_TRUE(parse_command_line(3, argv, cli, error)) << error;
  EXPECT_EQ(cli.probe_url, "http://127.0.0.1:8080/");
  const char* missing[] = {"cork", "--probe"};
  CommandLine cli2;
  EXPECT_FALSE(parse_command_line(2, missing, cli2, error));
  const char* empty[] = {"cork", "--probe", ""};
  CommandLine cli3;
  EXPECT_FALSE(parse_command_line(3, empty, cli3, error));
  EXPECT_NE(error.find("--probe"), std::string::npos);
  EXPECT_NE(usage_text().find("--probe URL"), std::string_view::npos);
}

}  // namespace
}  // namespace cork
