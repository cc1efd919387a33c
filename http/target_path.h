// Request-target -> a normalized path under the document root (RFC 9112 3.2, RFC 3986 5.2.4).
// Pure: it never touches the file system. The server opens the result relative to the root
// without following symlinks out of it; this function guarantees the path itself cannot climb.
#pragma once

#include <string>
#include <string_view>

namespace cork {

struct Target {
  // 0 when the target is usable; otherwise the status to answer with (400 or 404).
  int status = 0;
  // Decoded (percent-decoded exactly once) and normalized path: starts with '/', no "." or ".."
  // segments, no empty segments ("//" merged), never contains NUL, '\\', or bytes < 0x20 / 0x7f,
  // and is valid UTF-8. A target ending in '/' keeps its trailing '/'.
  std::string path;
  // The query without its '?', empty when there was none. Never used for file lookup.
  std::string query;
  bool has_query = false;
};

// Accepts origin-form ("/a/b?q") and absolute-form ("http://host/a/b?q", scheme compared
// case-insensitively, http or https). Rules:
//   - anything else (asterisk-form, authority-form, empty, a fragment '#') -> 400;
//   - a '%' not followed by two hex digits -> 400; decoded NUL, control bytes, '\\' -> 400;
//   - invalid or overlong UTF-8 after decoding (e.g. %c0%ae) -> 400;
//   - "." segments are removed, ".." removes the previous segment; a ".." that would climb above
//     the root -> 400 (nginx does the same; RFC 3986 would clamp, but a client that sends it is
//     probing, not browsing);
//   - a segment starting with '.' (dotfiles, dot-directories) -> 404, except a first segment
//     ".well-known" (RFC 8615).
Target resolve_target(std::string_view request_target);

// Whether resolve_target() would accept `name` as one decoded path segment and look it up: not
// empty, no '/', NUL, other control byte, DEL or '\\', valid UTF-8, and not starting with '.'
// (".well-known" counts as hidden here: it is only served as the first segment). A directory
// listing links only such names, so that no link it shows is refused (issue 11: `wget -r`).
bool is_servable_name(std::string_view name);

// A normalized path (Target::path) as a URI path for a Location: each byte outside RFC 3986
// 3.3's pchar ("%", "?", "#", spaces, controls, bytes >= 0x80) percent-encoded in uppercase hex,
// '/' kept. Built from the normalized path, never from the wire, so it starts with exactly one
// '/': "//host" on the wire would otherwise come back as a network-path reference to another
// host (RFC 3986 4.2), an open redirect.
std::string encode_path(std::string_view path);

}  // namespace cork
