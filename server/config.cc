// Config parsing: inih calls handle_pair() for every "key = value"; each key's validation lives
// in one table so that the file and the command line share it.
#include "server/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <ini.h>

#include "http/ascii.h"
#include "http/coding.h"
#include "server/address.h"
#include "server/address_filter.h"

namespace cork {

namespace {

// The longest timeout: a day.
constexpr std::int64_t kDayMs = 86'400'000;

// Parses a whole decimal number in [lo, hi]; no sign, no spaces, no trailing junk.
bool parse_number(std::string_view text, unsigned long long lo, unsigned long long hi,
                  unsigned long long& out) {
  if (text.empty()) return false;
  unsigned long long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  if (v < lo || v > hi) return false;
  out = v;
  return true;
}

template <class T>
bool set_number(std::string_view value, unsigned long long lo, unsigned long long hi, T& field,
                std::string& error, std::string_view key) {
  unsigned long long v = 0;
  if (!parse_number(value, lo, hi, v)) {
    error = fmt::format("{} must be a whole number in {}..{}, not '{}'", key, lo, hi, value);
    return false;
  }
  field = static_cast<T>(v);
  return true;
}

// A duration as the file writes it: whole seconds ("10", "10s") or whole milliseconds ("250ms").
// Returns milliseconds in [lo_ms, hi_ms]; no sign, fraction, space or other unit.
bool parse_duration_ms(std::string_view text, std::int64_t lo_ms, std::int64_t hi_ms,
                       std::int64_t& out) {
  std::int64_t scale = 1000;
  if (text.ends_with("ms")) {
    text.remove_suffix(2);
    scale = 1;
  } else if (text.ends_with('s')) {
    text.remove_suffix(1);
  }
  // The bound is checked before the multiplication, so it cannot overflow.
  unsigned long long v = 0;
  if (!parse_number(text, 0, static_cast<unsigned long long>(hi_ms / scale), v)) return false;
  const std::int64_t ms = static_cast<std::int64_t>(v) * scale;
  if (ms < lo_ms || ms > hi_ms) return false;
  out = ms;
  return true;
}

// "0", "250ms", "86400s": a bound in an error message.
std::string describe_ms(std::int64_t ms) {
  if (ms == 0) return "0";
  return ms % 1000 == 0 ? fmt::format("{}s", ms / 1000) : fmt::format("{}ms", ms);
}

bool set_duration(std::string_view value, std::int64_t lo_ms, std::int64_t hi_ms,
                  std::int64_t& field_ms, std::string& error, std::string_view key) {
  if (!parse_duration_ms(value, lo_ms, hi_ms, field_ms)) {
    error = fmt::format(
        "{} must be whole seconds (10, 10s) or milliseconds (250ms) in {}..{}, not '{}'", key,
        describe_ms(lo_ms), describe_ms(hi_ms), value);
    return false;
  }
  return true;
}

// A size in bytes as the file writes it: a whole number, optionally followed by K, M or G
// (binary multiples, either case, as nginx reads them: 64K = 65536). Returns bytes in [lo, hi];
// no sign, fraction, space or other unit.
bool parse_size(std::string_view text, std::uint64_t lo, std::uint64_t hi, std::uint64_t& out) {
  std::uint64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        scale = std::uint64_t{1} << 10;
        break;
      case 'm':
      case 'M':
        scale = std::uint64_t{1} << 20;
        break;
      case 'g':
      case 'G':
        scale = std::uint64_t{1} << 30;
        break;
      default:
        break;
    }
    if (scale != 1) text.remove_suffix(1);
  }
  // The bound is checked before the multiplication, so it cannot overflow.
  unsigned long long v = 0;
  if (!parse_number(text, 0, hi / scale, v)) return false;
  const std::uint64_t bytes = v * scale;
  if (bytes < lo || bytes > hi) return false;
  out = bytes;
  return true;
}

// "0", "256", "64K", "1G": a bound in an error message, in the largest unit that divides it.
std::string describe_size(std::uint64_t bytes) {
  constexpr std::string_view kUnits[] = {"G", "M", "K"};
  for (int i = 0; i < 3; ++i) {
    const std::uint64_t unit = std::uint64_t{1} << (30 - 10 * i);
    if (bytes != 0 && bytes % unit == 0) return fmt::format("{}{}", bytes / unit, kUnits[i]);
  }
  return fmt::format("{}", bytes);
}

template <class T>
bool set_size(std::string_view value, std::uint64_t lo, std::uint64_t hi, T& field,
              std::string& error, std::string_view key) {
  std::uint64_t bytes = 0;
  if (!parse_size(value, lo, hi, bytes)) {
    error = fmt::format("{} must be a size in bytes (65536, 64K, 1M) in {}..{}, not '{}'", key,
                        describe_size(lo), describe_size(hi), value);
    return false;
  }
  field = static_cast<T>(bytes);
  return true;
}

bool set_switch(std::string_view value, bool& field, std::string& error, std::string_view key) {
  if (value == "on") {
    field = true;
  } else if (value == "off") {
    field = false;
  } else {
    error = fmt::format("{} must be on or off, not '{}'", key, value);
    return false;
  }
  return true;
}

// The comma-separated elements of a list value, without surrounding blanks; empty elements are
// an error (a stray comma is a typo, not a wish).
bool split_list(std::string_view value, std::string_view key, std::vector<std::string_view>& out,
                std::string& error) {
  out.clear();
  if (trim_ows(value).empty()) return true;
  for (;;) {
    const std::size_t comma = value.find(',');
    const std::string_view element = trim_ows(value.substr(0, comma));
    if (element.empty()) {
      error = fmt::format("{} has an empty element", key);
      return false;
    }
    out.push_back(element);
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

bool set_codings(std::string_view value, std::vector<Coding>& field, std::string& error) {
  std::vector<std::string_view> names;
  if (!split_list(value, "compress_codings", names, error)) return false;
  std::vector<Coding> codings;
  for (const std::string_view name : names) {
    const std::optional<Coding> coding = parse_coding_name(name);
    if (!coding) {
      error = fmt::format("compress_codings: '{}' is not br, zstd or gzip", name);
      return false;
    }
    if (std::find(codings.begin(), codings.end(), *coding) != codings.end()) {
      error = fmt::format("compress_codings: '{}' is listed twice", name);
      return false;
    }
    codings.push_back(*coding);
  }
  field = std::move(codings);
  return true;
}

bool set_types(std::string_view value, std::vector<std::string>& field, std::string& error) {
  std::vector<std::string_view> names;
  if (!split_list(value, "compress_types", names, error)) return false;
  std::vector<std::string> types;
  for (const std::string_view name : names) {
    const std::size_t slash = name.find('/');
    const bool token_chars = std::all_of(name.begin(), name.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || std::strchr("!#$&-^_.+*/", ch);
    });
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == name.size() ||
        name.find('/', slash + 1) != std::string_view::npos || !token_chars ||
        name.substr(0, slash).find('*') != std::string_view::npos ||
        (name.find('*') != std::string_view::npos && name.substr(slash) != "/*")) {
      error =
          fmt::format("compress_types: '{}' is not a media type (type/subtype or type/*)", name);
      return false;
    }
    types.emplace_back(name);
  }
  field = std::move(types);
  return true;
}

bool valid_host(std::string_view host) {
  return host == "localhost" || parse_ip_address(host).has_value();
}

// Sets one key. Returns false with `error` set (without the "path:line: " prefix).
bool set_key(Config& c, std::string_view section, std::string_view key, std::string_view value,
             std::string& error) {
  if (section == "server") {
    if (key == "host") {
      if (!valid_host(value)) {
        error = fmt::format("host must be an IPv4 or IPv6 address or 'localhost', not '{}'", value);
        return false;
      }
      c.host = value;
      return true;
    }
    if (key == "port") return set_number(value, 0, 65535, c.port, error, "port");
    if (key == "root") {
      if (value.empty()) {
        error = "root must not be empty";
        return false;
      }
      c.root = value;
      return true;
    }
    if (key == "threads") return set_number(value, 0, 1024, c.threads, error, "threads");
    if (key == "queue_capacity") {
      return set_number(value, 1, 10'000'000, c.queue_capacity, error, "queue_capacity");
    }
    if (key == "max_connections") {
      return set_number(value, 1, 10'000'000, c.max_connections, error, "max_connections");
    }
    if (key == "backlog") return set_number(value, 1, 65535, c.backlog, error, "backlog");
    if (key == "status_path") {
      bool ok =
          value.empty() || (value.front() == '/' && value.find('?') == std::string_view::npos);
      for (unsigned char ch : value)
        ok = ok && ch > 0x20 && ch < 0x7f;
      if (!ok) {
        error =
            fmt::format("status_path must be empty or a path starting with '/', not '{}'", value);
        return false;
      }
      c.status_path = value;
      return true;
    }
    if (key == "status_allow") {
      AddressFilter filter;
      std::string why;
      if (!AddressFilter::parse(value, filter, why)) {
        error = fmt::format("status_allow: {}", why);
        return false;
      }
      c.status_allow = value;
      return true;
    }
  } else if (section == "http") {
    if (key == "index") {
      if (value.empty() || value.find('/') != std::string_view::npos || value == "." ||
          value == "..") {
        error = fmt::format("index must be a file name without '/', not '{}'", value);
        return false;
      }
      c.index = value;
      return true;
    }
    if (key == "keepalive_timeout") {
      return set_duration(value, 0, kDayMs, c.keepalive_timeout_ms, error, key);
    }
    if (key == "header_timeout") {
      return set_duration(value, 1, kDayMs, c.header_timeout_ms, error, key);
    }
    if (key == "max_request_line") {
      return set_size(value, 64, 1 << 20, c.max_request_line, error, key);
    }
    if (key == "max_header_bytes") {
      return set_size(value, 256, 1 << 20, c.max_header_bytes, error, key);
    }
    if (key == "max_discard_body") {
      return set_size(value, 0, std::uint64_t{64} << 30, c.max_discard_body, error, key);
    }
    if (key == "max_headers")
      return set_number(value, 1, 10000, c.max_headers, error, "max_headers");
    if (key == "send_timeout") return set_duration(value, 1, kDayMs, c.send_timeout_ms, error, key);
    if (key == "follow_symlinks") {
      if (value == "inside") {
        c.follow_symlinks = SymlinkPolicy::kInside;
      } else if (value == "on") {
        c.follow_symlinks = SymlinkPolicy::kOn;
      } else if (value == "off") {
        c.follow_symlinks = SymlinkPolicy::kOff;
      } else {
        error = fmt::format("follow_symlinks must be inside, on or off, not '{}'", value);
        return false;
      }
      return true;
    }
    if (key == "max_ranges") return set_number(value, 1, 1000, c.max_ranges, error, "max_ranges");
    if (key == "cache_control") {
      // Sent verbatim as a field value: it must not be able to end the field or the head.
      for (unsigned char ch : value) {
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
          error = "cache_control must not contain control characters";
          return false;
        }
      }
      c.cache_control = value;
      return true;
    }
    if (key == "file_cache_entries") {
      return set_number(value, 0, 1'000'000, c.file_cache_entries, error, key);
    }
    if (key == "file_cache_memory") {
      return set_size(value, 0, std::uint64_t{64} << 30, c.file_cache_memory, error, key);
    }
    if (key == "precompressed") return set_switch(value, c.precompressed, error, key);
    if (key == "compress") return set_switch(value, c.compression.enabled, error, key);
    if (key == "compress_codings") return set_codings(value, c.compression.codings, error);
    if (key == "compress_second_pass") {
      return set_switch(value, c.compression.second_pass, error, key);
    }
    if (key == "compress_level_br" || key == "compress_level_zstd" ||
        key == "compress_level_gzip") {
      const Coding coding = key == "compress_level_br"     ? Coding::kBrotli
                            : key == "compress_level_zstd" ? Coding::kZstd
                                                           : Coding::kGzip;
      const LevelRange range = level_range(coding);
      int& level = coding == Coding::kBrotli ? c.compression.level_br
                   : coding == Coding::kZstd ? c.compression.level_zstd
                                             : c.compression.level_gzip;
      return set_number(value, static_cast<unsigned long long>(range.min),
                        static_cast<unsigned long long>(range.max), level, error, key);
    }
    if (key == "compress_types") return set_types(value, c.compression.types, error);
    if (key == "compress_min_size") {
      return set_size(value, 0, std::uint64_t{1} << 30, c.compression.min_size, error, key);
    }
    if (key == "compress_max_size") {
      return set_size(value, 0, std::uint64_t{1} << 30, c.compression.max_size, error, key);
    }
    if (key == "compress_cache_size") {
      return set_size(value, 0, std::uint64_t{64} << 30, c.compress_cache_size, error, key);
    }
    if (key == "autoindex") return set_switch(value, c.autoindex, error, key);
    if (key == "openat2") return set_switch(value, c.openat2, error, key);
  } else if (section == "log") {
    if (key == "level") {
      if (value == "debug") {
        c.level = LogLevel::kDebug;
      } else if (value == "info") {
        c.level = LogLevel::kInfo;
      } else if (value == "warn") {
        c.level = LogLevel::kWarn;
      } else if (value == "error") {
        c.level = LogLevel::kError;
      } else {
        error = fmt::format("level must be debug, info, warn or error, not '{}'", value);
        return false;
      }
      return true;
    }
    if (key == "access_log" || key == "error_log") {
      if (value.empty()) {
        error =
            fmt::format("{} must be '-', a path{}", key, key == "access_log" ? " or 'off'" : "");
        return false;
      }
      if (key == "error_log" && value == "off") {
        error = "error_log cannot be 'off' (use a path such as /dev/null)";
        return false;
      }
      (key == "access_log" ? c.access_log : c.error_log) = value;
      return true;
    }
  } else {
    error = fmt::format("unknown section [{}] (sections are [server], [http], [log])", section);
    return false;
  }
  error = fmt::format("unknown key '{}' in [{}]", key, section);
  return false;
}

struct ParseState {
  Config* config;
  std::string first_error;
};

int handle_pair(void* user, const char* section, const char* name, const char* value) {
  auto* state = static_cast<ParseState*>(user);
  std::string error;
  if (set_key(*state->config, section, name, value, error)) return 1;
  if (state->first_error.empty()) state->first_error = std::move(error);
  return 0;
}

}  // namespace

bool parse_config(std::string_view text, const std::string& name, Config& config,
                  std::string& error) {
  Config parsed = config;
  ParseState state{&parsed, {}};
  const std::string copy(text);  // inih wants a NUL-terminated string
  const int line = ini_parse_string(copy.c_str(), &handle_pair, &state);
  if (line != 0) {
    if (line < 0) {
      error = fmt::format("{}: cannot parse", name);
    } else {
      error = fmt::format("{}:{}: {}", name, line,
                          state.first_error.empty() ? "syntax error" : state.first_error);
    }
    return false;
  }
  if (parsed.compression.min_size > parsed.compression.max_size) {
    error = fmt::format("{}: compress_min_size ({}) is above compress_max_size ({})", name,
                        parsed.compression.min_size, parsed.compression.max_size);
    return false;
  }
  if (parsed.compression.enabled && parsed.compression.max_size > parsed.compress_cache_size) {
    error = fmt::format(
        "{}: compress_max_size ({}) is above compress_cache_size ({}): a copy might not fit", name,
        parsed.compression.max_size, parsed.compress_cache_size);
    return false;
  }
  config = std::move(parsed);
  return true;
}

bool load_config_file(const std::string& path, Config& config, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("{}: cannot read config: {}", path, std::strerror(errno));
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    error = fmt::format("{}: cannot read config: {}", path, std::strerror(errno));
    return false;
  }
  return parse_config(text.str(), path, config, error);
}

bool parse_command_line(int argc, const char* const* argv, CommandLine& out, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto take = [&](std::string& field) {
      if (i + 1 >= argc) {
        error = fmt::format("option {} needs a value (see --help)", arg);
        return false;
      }
      field = argv[++i];
      return true;
    };
    if (arg == "-c" || arg == "--config") {
      if (!take(out.config_path)) return false;
    } else if (arg == "-p" || arg == "--port") {
      if (!take(out.port)) return false;
    } else if (arg == "-r" || arg == "--root") {
      if (!take(out.root)) return false;
    } else if (arg == "--threads") {
      if (!take(out.threads)) return false;
    } else if (arg == "--probe") {
      if (!take(out.probe_url)) return false;
      if (out.probe_url.empty()) {
        error = "option --probe needs an http:// URL (see --help)";
        return false;
      }
    } else if (arg == "--check") {
      out.check = true;
    } else if (arg == "--version" || arg == "-v") {
      out.version = true;
    } else if (arg == "--help" || arg == "-h") {
      out.help = true;
    } else {
      error = fmt::format("unknown option '{}' (see --help)", arg);
      return false;
    }
  }
  return true;
}

bool apply_command_line(const CommandLine& cli, Config& config, std::string& error) {
  std::string why;
  auto apply = [&](const std::string& value, std::string_view section, std::string_view key,
                   std::string_view flag) {
    if (value.empty() && flag != "-r") return true;
    if (set_key(config, section, key, value, why)) return true;
    error = fmt::format("{}: {}", flag, why);
    return false;
  };
  if (!cli.port.empty() && !apply(cli.port, "server", "port", "-p")) return false;
  if (!cli.root.empty() && !apply(cli.root, "server", "root", "-r")) return false;
  if (!cli.threads.empty() && !apply(cli.threads, "server", "threads", "--threads")) return false;
  return true;
}

std::string_view usage_text() {
  return "usage: cork [-c FILE] [-p PORT] [-r ROOT] [--threads N] [--check] [--version] [--help]\n"
         "       cork --probe URL\n"
         "\n"
         "  -c, --config FILE  read the INI configuration FILE (default: built-in defaults)\n"
         "  -p, --port PORT    listen on PORT (overrides [server] port; 0 = any free port)\n"
         "  -r, --root ROOT    serve files from ROOT (overrides [server] root)\n"
         "      --threads N    worker threads (overrides [server] threads; 0 = one per CPU)\n"
         "      --check        validate the configuration and exit\n"
         "      --probe URL    GET an http:// URL (IPv4, [IPv6] or localhost) and exit 0 on a\n"
         "                     2xx/3xx status within 3 s, else 1: a container health check\n"
         "      --version      print the version and exit\n"
         "      --help         print this help and exit\n";
}

}  // namespace cork
