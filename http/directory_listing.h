// The autoindex page of a directory, as HTML or JSON, and the helpers it is built from.
// Pure: the server reads the directory (and decides whether listing is allowed at all) and passes
// the entries in; nothing here touches the file system or the clock. Names are raw file-system
// bytes and the path comes from the request, so every byte is escaped for where it lands (HTML
// text, URL, JSON string): a hostile file name must never become markup, script or a new URL.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace cork {

// One directory entry as the server read it. Copyable value.
struct ListingEntry {
  std::string name;  // a file-name component, raw bytes (may be any bytes but '/' and NUL)
  bool is_directory = false;
  std::uint64_t size = 0;  // bytes, files only
  std::time_t mtime = 0;
};

// Entries are sorted here: directories first, then files, each group by name (byte order);
// only names a GET of their link would serve are listed (is_servable_name(): dotfiles, names
// with control bytes or '\\', names that are not UTF-8 are left out, as are names that are not
// file-name components at all). `url_path` is the decoded request path ending in '/', e.g.
// "/docs/" (shown in the title/heading, HTML-escaped). The page links "../" except at "/"; each
// entry links to its percent-encoded name (+ "/" for directories), shows its HTML-escaped name,
// its human_size ("-" for directories) and its mtime as an IMF-fixdate. A path that is not valid
// UTF-8 is shown with U+FFFD in its place (the page declares utf-8).
std::string render_listing_html(std::string_view url_path, std::vector<ListingEntry> entries);

// The same listing (same order, same hidden entries) as JSON:
// {"path":"/docs/","entries":[{"name":"a","type":"directory","mtime":"<IMF-fixdate>"},
//  {"name":"b.txt","type":"file","size":123,"mtime":"..."}]}
// Strings are JSON-escaped (RFC 8259 7): '"' and '\\' with a backslash, control characters
// (and DEL) as \u00xx; bytes >= 0x80 pass through when valid UTF-8, each maximal invalid
// sequence becomes U+FFFD, so the output is always valid UTF-8 (RFC 8259 8.1).
std::string render_listing_json(std::string_view url_path, std::vector<ListingEntry> entries);

// "0 B", "999 B", "1.0 KiB", "1.5 MiB", "2.0 GiB": 1024-based, one decimal (rounded half up)
// above bytes; a value that rounds to 1024.0 of a unit is shown as 1.0 of the next one.
std::string human_size(std::uint64_t bytes);

// Percent-encodes (uppercase hex, RFC 3986 2.1) everything but RFC 3986 2.3 unreserved
// characters (ALPHA / DIGIT / "-" / "." / "_" / "~"), so the result is a relative reference that
// can be neither a scheme ("a:b") nor carry a query or fragment ("?", "#").
std::string percent_encode_segment(std::string_view segment);

// & < > " ' -> &amp; &lt; &gt; &quot; &#39; (safe in HTML text and in quoted attributes).
std::string html_escape(std::string_view text);

// True when the Accept field value (RFC 9110 12.5.1) prefers application/json over text/html:
// application/json listed with q > 0 and a higher q than text/html (text/html absent counts as
// 0). Only those two exact media types count (case-insensitive, media-type parameters such as
// charset ignored); wildcards ("*/*", "text/*") do not, so "*/*" gets HTML. A type listed twice
// takes its higher q; an unreadable q counts as 0 (RFC 9110 12.4.2). Never throws.
bool prefers_json(std::string_view accept);

}  // namespace cork
