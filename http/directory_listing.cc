// Directory listings (autoindex) as HTML and JSON. Builds strings only: the entries come from the
// server, which did the reading; nothing here may touch the file system or trust a name's bytes.
#include "http/directory_listing.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <iterator>
#include <optional>

#include <fmt/format.h>

#include "http/accept_encoding.h"  // parse_qvalue
#include "http/ascii.h"
#include "http/http_date.h"
#include "http/target_path.h"

namespace cork {

namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Length of the valid UTF-8 sequence at the start of `s` (1..4), or, when it is ill-formed, the
// negated length of its maximal subpart (Unicode 15 3.9, "U+FFFD substitution of maximal
// subparts"): the caller replaces that many bytes by one U+FFFD. `s` is not empty.
int utf8_sequence(std::string_view s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // range of the second byte (Unicode Table 3-7)
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // no overlong forms
    if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
  } else {
    return -1;  // a continuation byte, C0, C1 or F5..FF
  }
  std::size_t i = 1;
  for (; i < length && i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < (i == 1 ? low : 0x80) || c > (i == 1 ? high : 0xBF)) break;
  }
  return i == length ? static_cast<int>(length) : -static_cast<int>(i);
}

// `text` with every ill-formed UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const int n = utf8_sequence(text);
    if (n > 0) {
      out.append(text.substr(0, static_cast<std::size_t>(n)));
    } else {
      out.append(kReplacementCharacter);
    }
    text.remove_prefix(static_cast<std::size_t>(n > 0 ? n : -n));
  }
  return out;
}

// A JSON string literal, quotes included (RFC 8259 7).
void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char c : valid_utf8(text)) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7F) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", byte);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

bool is_listed(const ListingEntry& entry) {
  return is_servable_name(entry.name);
}

// Hides what must not be shown and sorts the rest: directories first, then by name. std::string's
// operator< compares as unsigned char (char_traits<char>::lt), i.e. in byte order.
void prepare(std::vector<ListingEntry>& entries) {
  std::erase_if(entries, [](const ListingEntry& e) { return !is_listed(e); });
  std::sort(entries.begin(), entries.end(), [](const ListingEntry& a, const ListingEntry& b) {
    if (a.is_directory != b.is_directory) return a.is_directory;
    return a.name < b.name;
  });
}

// Splits `text` at every `separator` that is not inside a quoted-string (RFC 9110 5.6.4) and
// calls `f` on each piece (empty pieces included).
template <typename F>
void split_outside_quotes(std::string_view text, char separator, F&& f) {
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted && c == '\\') {
      ++i;  // quoted-pair: the next byte is literal
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == separator) {
      f(text.substr(start, i - start));
      start = i + 1;
    }
  }
  f(text.substr(std::min(start, text.size())));
}

}  // namespace

std::string human_size(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static constexpr std::array<std::string_view, 6> kUnits = {"KiB", "MiB", "GiB",
                                                             "TiB", "PiB", "EiB"};
  std::size_t unit = 0;  // kUnits[unit] is 2^(10 * (unit + 1)) bytes
  while (unit + 1 < kUnits.size() && (bytes >> (10 * (unit + 2))) != 0)
    ++unit;
  // Tenths of the unit, rounded half up, in integers: bytes may be near 2^64, and
  // remainder * 10 + half stays below 2^64 because the remainder is below 2^60.
  std::uint64_t tenths = 0;
  while (true) {
    const unsigned shift = static_cast<unsigned>(10 * (unit + 1));
    const std::uint64_t whole = bytes >> shift;
    const std::uint64_t remainder = bytes & ((std::uint64_t{1} << shift) - 1);
    tenths = whole * 10 + ((remainder * 10 + (std::uint64_t{1} << (shift - 1))) >> shift);
    if (tenths < 10240 || unit + 1 == kUnits.size()) break;
    ++unit;  // 1023.95 KiB and above read as 1.0 MiB, not 1024.0 KiB
  }
  return fmt::format("{}.{} {}", tenths / 10, tenths % 10, kUnits[unit]);
}

std::string percent_encode_segment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (const char c : segment) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0F]);
    }
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&#39;");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string render_listing_html(std::string_view url_path, std::vector<ListingEntry> entries) {
  prepare(entries);
  const std::string title = html_escape(valid_utf8(url_path));
  std::string out;
  out.reserve(512 + entries.size() * 160);
  auto sink = std::back_inserter(out);
  fmt::format_to(sink,
                 "<!DOCTYPE html>\n"
                 "<html>\n"
                 "<head>\n"
                 "<meta charset=\"utf-8\">\n"
                 "<title>Index of {0}</title>\n"
                 "</head>\n"
                 "<body>\n"
                 "<h1>Index of {0}</h1>\n"
                 "<table>\n"
                 "<tr><th>Name</th><th>Size</th><th>Last modified</th></tr>\n",
                 title);
  if (!url_path.empty() && url_path != "/") {
    out.append("<tr><td><a href=\"../\">../</a></td><td>-</td><td></td></tr>\n");
  }
  for (const ListingEntry& e : entries) {
    const std::string_view slash = e.is_directory ? "/" : "";
    fmt::format_to(sink, "<tr><td><a href=\"{}{}\">{}{}</a></td><td>{}</td><td>{}</td></tr>\n",
                   percent_encode_segment(e.name), slash, html_escape(valid_utf8(e.name)), slash,
                   e.is_directory ? std::string("-") : human_size(e.size),
                   format_http_date(e.mtime));
  }
  out.append("</table>\n</body>\n</html>\n");
  return out;
}

std::string render_listing_json(std::string_view url_path, std::vector<ListingEntry> entries) {
  prepare(entries);
  std::string out;
  out.reserve(64 + entries.size() * 96);
  out.append("{\"path\":");
  append_json_string(out, url_path);
  out.append(",\"entries\":[");
  bool first = true;
  for (const ListingEntry& e : entries) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"name\":");
    append_json_string(out, e.name);
    if (e.is_directory) {
      out.append(",\"type\":\"directory\"");
    } else {
      fmt::format_to(std::back_inserter(out), ",\"type\":\"file\",\"size\":{}", e.size);
    }
    out.append(",\"mtime\":");
    append_json_string(out, format_http_date(e.mtime));
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

bool prefers_json(std::string_view accept) {
  int json = 0;  // highest q (thousandths) of application/json; 0 when absent
  int html = 0;  // the same for text/html
  // RFC 9110 12.5.1: Accept = #( media-range [ weight ] ); media-range = type "/" subtype
  // parameters; the "q" parameter is the weight and ends the media-type parameters.
  split_outside_quotes(accept, ',', [&](std::string_view element) {
    std::optional<std::string_view> range;
    std::optional<int> q;
    split_outside_quotes(element, ';', [&](std::string_view part) {
      part = trim_ows(part);
      if (!range) {
        range = part;
        return;
      }
      if (q) return;  // accept-ext after the weight: ignored
      const std::size_t eq = part.find('=');
      if (!equals_ignore_case(trim_ows(part.substr(0, eq)), "q")) return;  // e.g. charset
      q = eq == std::string_view::npos ? 0 : parse_qvalue(part.substr(eq + 1)).value_or(0);
    });
    const int weight = q.value_or(1000);
    if (equals_ignore_case(*range, "application/json")) json = std::max(json, weight);
    if (equals_ignore_case(*range, "text/html")) html = std::max(html, weight);
  });
  return json > 0 && json > html;
}

}  // namespace cork
