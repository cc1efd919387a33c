// Entity-tags (RFC 9110 8.8.3): making the strong tag of a file version, and comparing tags
// received in If-Match / If-None-Match / If-Range against it.
// Pure functions: no file system, no clock. Received tags are untrusted bytes: a malformed tag
// or list never throws, asserts or matches anything; it simply compares unequal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cork {

// Strong ETag of one file version, quotes included: "\"<mtime s hex>.<mtime ns hex>-<size hex>\"",
// or "\"<s>.<ns>-<size>-<variant>\"" when `variant` is non-empty (e.g. "gz", "br" for a
// precompressed representation, RFC 9110 8.8.3.3: each representation has its own tag).
// The modification time in nanoseconds, so that two same-size versions written within one
// second differ (RFC 9110 8.8.1: two byte sequences never share a strong tag); no inode and no
// device number, so the tag stays the same across restarts and on every replica of an image.
// A negative mtime is written as its 64-bit two's complement. `variant` is ours, not the
// client's: it must consist of etagc characters other than '"' (asserted).
std::string make_etag(std::int64_t mtime_seconds, std::int64_t mtime_nanoseconds,
                      std::uint64_t size, std::string_view variant = {});

// RFC 9110 8.8.3.2 strong comparison: both tags are strong and their opaque-tags are
// identical. `a` and `b` are complete entity-tags, optional "W/" prefix and quotes included. A
// malformed tag matches nothing. (Weak comparison is list_matches with `weak`.)
bool strong_match(std::string_view a, std::string_view b);

// Does the value of If-Match or If-None-Match ("*" / 1#entity-tag, RFC 9110 13.1.1, 13.1.2)
// match `current`, the strong tag of the selected representation? `weak` selects weak
// comparison (If-None-Match) instead of strong (If-Match). "*" matches any current
// representation; the caller only asks when one exists. Several fields of the same name are
// joined by the caller with ", " (RFC 9110 5.3). A malformed list, including one without any
// non-empty element, matches nothing.
bool list_matches(std::string_view field_value, std::string_view current, bool weak);

}  // namespace cork
