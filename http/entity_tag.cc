// Entity-tags: strict parsing of [W/] DQUOTE *etagc DQUOTE and of comma lists of them
// (RFC 9110 8.8.3, 5.6.1). Must not accept anything the grammar does not: a lenient parse here
// would let a garbled If-Match pass a precondition.
#include "http/entity_tag.h"

#include <array>
#include <cassert>
#include <charconv>
#include <optional>

#include "http/ascii.h"

namespace cork {

namespace {

// etagc = %x21 / %x23-7E / obs-text (RFC 9110 8.8.3).
bool is_etagc(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c == 0x21 || (c >= 0x23 && c <= 0x7E) || c >= 0x80;
}

struct ParsedTag {
  bool weak = false;
  std::string_view opaque;  // including the quotes
};

// Parses an entity-tag at the start of `text`; on success removes it from `text`.
std::optional<ParsedTag> take_entity_tag(std::string_view& text) {
  ParsedTag tag;
  std::size_t i = 0;
  // weak = %s"W/": case-sensitive (RFC 9110 8.8.3).
  if (text.size() >= 2 && text[0] == 'W' && text[1] == '/') {
    tag.weak = true;
    i = 2;
  }
  if (i >= text.size() || text[i] != '"') return std::nullopt;
  const std::size_t open = i++;
  while (i < text.size() && is_etagc(text[i]))
    ++i;
  if (i >= text.size() || text[i] != '"') return std::nullopt;
  ++i;
  tag.opaque = text.substr(open, i - open);
  text.remove_prefix(i);
  return tag;
}

// A whole string that is exactly one entity-tag.
std::optional<ParsedTag> parse_entity_tag(std::string_view text) {
  auto tag = take_entity_tag(text);
  if (!tag || !text.empty()) return std::nullopt;
  return tag;
}

void append_hex(std::string& out, std::uint64_t value) {
  std::array<char, 16> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value, 16);
  assert(ec == std::errc());
  out.append(buf.data(), end);
}

}  // namespace

std::string make_etag(std::int64_t mtime_seconds, std::int64_t mtime_nanoseconds,
                      std::uint64_t size, std::string_view variant) {
  std::string tag;
  tag.reserve(2 + 16 + 1 + 16 + 1 + 16 + (variant.empty() ? 0 : 1 + variant.size()));
  tag.push_back('"');
  append_hex(tag, static_cast<std::uint64_t>(mtime_seconds));
  tag.push_back('.');
  append_hex(tag, static_cast<std::uint64_t>(mtime_nanoseconds));
  tag.push_back('-');
  append_hex(tag, size);
  if (!variant.empty()) {
    tag.push_back('-');
    for ([[maybe_unused]] char c : variant)
      assert(is_etagc(c));
    tag.append(variant);
  }
  tag.push_back('"');
  return tag;
}

bool strong_match(std::string_view a, std::string_view b) {
  const auto ta = parse_entity_tag(a);
  const auto tb = parse_entity_tag(b);
  return ta && tb && !ta->weak && !tb->weak && ta->opaque == tb->opaque;
}

bool list_matches(std::string_view field_value, std::string_view current, bool weak) {
  std::string_view rest = trim_ows(field_value);
  // RFC 9110 13.1.1, 13.1.2: "*" stands alone; inside a list it is malformed.
  if (rest == "*") return true;
  const auto cur = parse_entity_tag(current);
  if (!cur) return false;
  // The whole list is validated before answering, so "\"a\", garbage" matches nothing even
  // when "a" is current.
  bool matched = false;
  // #element = [ element ] *( OWS "," OWS [ element ] ) (RFC 9110 5.6.1); empty elements
  // are skipped.
  while (true) {
    rest = trim_leading_ows(rest);
    if (!rest.empty() && rest.front() != ',') {
      const auto tag = take_entity_tag(rest);
      if (!tag) return false;
      const bool equal = tag->opaque == cur->opaque;
      if (equal && (weak || (!tag->weak && !cur->weak))) matched = true;
      rest = trim_leading_ows(rest);
    }
    if (rest.empty()) break;
    if (rest.front() != ',') return false;
    rest.remove_prefix(1);
  }
  return matched;  // false for a list without any element
}

}  // namespace cork
