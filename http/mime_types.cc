// The MIME table: a sorted static array searched by binary search, no allocation per lookup.
#include "http/mime_types.h"

#include <algorithm>
#include <array>
#include <cstddef>

#include "http/ascii.h"

namespace cork {

namespace {

struct MimeEntry {
  std::string_view extension;  // lower case, without the dot
  std::string_view type;
};

// Sorted by extension (checked by a unit test). Text types carry charset=utf-8; JavaScript is
// text/javascript (RFC 9239).
constexpr std::array<MimeEntry, 48> kTable = {{
    {"apng", "image/apng"},
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"br", "application/octet-stream"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/x-icon"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"jsonld", "application/ld+json; charset=utf-8"},
    {"m4a", "audio/mp4"},
    {"map", "application/json; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"svg", "image/svg+xml; charset=utf-8"},
    {"tar", "application/x-tar"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json; charset=utf-8"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml; charset=utf-8"},
    {"xml", "application/xml; charset=utf-8"},
    {"xz", "application/x-xz"},
    {"yaml", "application/yaml; charset=utf-8"},
    {"yml", "application/yaml; charset=utf-8"},
    {"zip", "application/zip"},
}};

constexpr bool table_is_sorted() {
  for (std::size_t i = 1; i < kTable.size(); ++i) {
    if (!(kTable[i - 1].extension < kTable[i].extension)) return false;
  }
  return true;
}
static_assert(table_is_sorted(), "kTable must stay sorted for the binary search");

constexpr std::string_view kDefault = "application/octet-stream";
constexpr std::size_t kLongestExtension = 16;

}  // namespace

std::string_view mime_type_for(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const std::size_t dot = name.rfind('.');
  // No dot, or only a leading one (".bashrc"): no extension.
  if (dot == std::string_view::npos || dot == 0) return kDefault;
  const std::string_view ext = name.substr(dot + 1);
  if (ext.empty() || ext.size() > kLongestExtension) return kDefault;
  char lower[kLongestExtension];
  for (std::size_t i = 0; i < ext.size(); ++i)
    lower[i] = to_lower_ascii(ext[i]);
  const std::string_view key(lower, ext.size());
  const auto it =
      std::lower_bound(kTable.begin(), kTable.end(), key,
                       [](const MimeEntry& e, std::string_view k) { return e.extension < k; });
  return (it != kTable.end() && it->extension == key) ? it->type : kDefault;
}

}  // namespace cork
