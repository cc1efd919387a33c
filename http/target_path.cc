// Request-target -> normalized path. Security-critical: the result can never name anything
// above the root; the file system layer (openat2 RESOLVE_BENEATH) is the second fence.
#include "http/target_path.h"

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

  // Percent-decode exactly once (no copy when there is nothing to decode).
  std::string decoded_storage;
  std::string_view decoded = raw_path;
  if (raw_path.find('%') != std::string_view::npos) {
    decoded_storage.reserve(raw_path.size());
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
      decoded_storage.push_back(c);
    }
    decoded = decoded_storage;
  }
  for (const char c : decoded) {
    if (!acceptable_path_byte(c)) return fail(400);
  }
  if (!valid_utf8(decoded)) return fail(400);

  // Remove dot segments and merge slashes (RFC 3986 5.2.4), refusing to climb above the root:
  // the path is built in place, ".." cutting it back to the previous segment.
  std::string& path = result.path;
  path.reserve(decoded.size() + 1);
  path = "/";
  std::string_view walk = decoded;
  std::string_view final_segment;
  while (true) {
    const std::size_t slash = walk.find('/');
    const std::string_view segment = walk.substr(0, slash);
    if (segment == "..") {
      if (path.size() == 1) return fail(400);
      const std::size_t cut = path.rfind('/');
      path.resize(cut == 0 ? 1 : cut);
    } else if (!segment.empty() && segment != ".") {
      if (path.size() > 1) path.push_back('/');
      path.append(segment);
    }
    if (slash == std::string_view::npos) {
      final_segment = segment;
      break;
    }
    walk.remove_prefix(slash + 1);
  }
  // A trailing '/' (empty final segment) or a final "." or ".." names a directory.
  const bool directory = final_segment.empty() || final_segment == "." || final_segment == "..";

  // Dotfiles and dot-directories are private; RFC 8615's /.well-known/ is the exception.
  for (std::size_t at = path.find("/."); at != std::string::npos; at = path.find("/.", at + 1)) {
    const bool well_known = at == 0 && path.compare(0, 12, "/.well-known") == 0 &&
                            (path.size() == 12 || path[12] == '/');
    if (!well_known) return fail(404);
  }
  if (directory && path.size() > 1) path.push_back('/');
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
