// Request-target -> normalized path. Security-critical: the result can never name anything
// above the root; the file system layer (openat2 RESOLVE_BENEATH) is the second fence.
#include "http/target_path.h"

#include <vector>

#include "http/ascii.h"

namespace cork {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict UTF-8 (RFC 3629): no overlong forms (%c0%ae), no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned min;
    unsigned cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2, min = 0x80, cp = c & 0x1fu;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, min = 0x800, cp = c & 0x0fu;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, min = 0x10000, cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

Target fail(int status) {
  Target t;
  t.status = status;
  return t;
}

// The bytes a decoded path may hold: no control byte, DEL or '\\' (a Windows separator, refused
// rather than guessed at).
bool acceptable_path_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x20 && u != 0x7f && c != '\\';
}

}  // namespace

bool is_servable_name(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  for (const char c : name) {
    if (c == '/' || !acceptable_path_byte(c)) return false;
  }
  return valid_utf8(name);
}

Target resolve_target(std::string_view target) {
  if (target.empty()) return fail(400);
  // RFC 9112 3.2: a fragment is never part of a request-target.
  if (target.find('#') != std::string_view::npos) return fail(400);

  std::string_view rest = target;
  if (rest.front() != '/') {
    // absolute-form (RFC 9112 3.2.2): http://authority/path?query
    const std::size_t sep = rest.find("://");
    if (sep == std::string_view::npos) return fail(400);  // asterisk- or authority-form
    const std::string_view scheme = rest.substr(0, sep);
    if (!equals_ignore_case(scheme, "http") && !equals_ignore_case(scheme, "https"))
      return fail(400);
    rest.remove_prefix(sep + 3);
    const std::size_t path_start = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, path_start);
    if (authority.empty()) return fail(400);
    rest = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  }

  Target result;
  const std::size_t question = rest.find('?');
  std::string_view raw_path = rest.substr(0, question);
  if (question != std::string_view::npos) {
    result.has_query = true;
    result.query = rest.substr(question + 1);
  }
  if (raw_path.empty()) raw_path = "/";

  // Percent-decode exactly once.
  std::string decoded;
  decoded.reserve(raw_path.size());
  for (std::size_t i = 0; i < raw_path.size(); ++i) {
    char c = raw_path[i];
    if (c == '%') {
      if (i + 2 >= raw_path.size()) return fail(400);
      const int hi = hex_value(raw_path[i + 1]);
      const int lo = hex_value(raw_path[i + 2]);
      if (hi < 0 || lo < 0) return fail(400);
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (!acceptable_path_byte(c)) return fail(400);
    decoded.push_back(c);
  }
  if (!valid_utf8(decoded)) return fail(400);

  // Remove dot segments and merge slashes (RFC 3986 5.2.4), refusing to climb above the root.
  std::vector<std::string_view> segments;
  std::string_view walk = decoded;
  std::string_view final_segment;
  while (true) {
    const std::size_t slash = walk.find('/');
    const std::string_view segment = walk.substr(0, slash);
    if (segment == "..") {
      if (segments.empty()) return fail(400);
      segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    if (slash == std::string_view::npos) {
      final_segment = segment;
      break;
    }
    walk.remove_prefix(slash + 1);
  }
  // A trailing '/' (empty final segment) or a final "." or ".." names a directory.
  const bool directory = final_segment.empty() || final_segment == "." || final_segment == "..";

  for (std::size_t i = 0; i < segments.size(); ++i) {
    // Dotfiles and dot-directories are private; RFC 8615's /.well-known/ is the exception.
    if (segments[i].front() == '.' && !(i == 0 && segments[i] == ".well-known")) return fail(404);
  }

  result.path = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) result.path.push_back('/');
    result.path.append(segments[i]);
  }
  if (directory && !segments.empty()) result.path.push_back('/');
  return result;
}

std::string encode_path(std::string_view path) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    // RFC 3986 3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@"; plus '/'.
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    const bool plain =
        alnum || std::string_view("-._~!$&'()*+,;=:@/").find(c) != std::string_view::npos;
    if (plain) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0x0f]);
    }
  }
  return out;
}

}  // namespace cork
