// Accept-Encoding (RFC 9110 12.5.3) with weights (RFC 9110 12.4.2). Reads the field value as a
// comma-separated list (RFC 9110 5.6.1); never throws, never allocates.
#include "http/accept_encoding.h"

#include <algorithm>
#include <cstddef>

#include "http/ascii.h"

namespace cork {

namespace {

// RFC 9110 5.6.3: OWS = *( SP / HTAB ).
// RFC 9110 5.6.2: tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// RFC 9110 8.4.1.1 and 8.4.1.3: "x-compress" and "x-gzip" are aliases a recipient should treat
// as "compress" and "gzip".
std::string_view canonical_coding(std::string_view coding) {
  if (equals_ignore_case(coding, "x-gzip")) return "gzip";
  if (equals_ignore_case(coding, "x-compress")) return "compress";
  return coding;
}

bool same_coding(std::string_view a, std::string_view b) {
  return equals_ignore_case(canonical_coding(a), canonical_coding(b));
}

struct WeightedCoding {
  std::string_view coding;
  int q = 1000;  // thousandths
};

// One list element: codings [ weight ], weight = OWS ";" OWS "q=" qvalue.
std::optional<WeightedCoding> parse_element(std::string_view element) {
  const std::size_t semicolon = element.find(';');
  const std::string_view coding = trim_ows(element.substr(0, semicolon));
  if (!is_token(coding)) return std::nullopt;  // nothing we could match: skip the element
  if (semicolon == std::string_view::npos) return WeightedCoding{coding, 1000};
  const std::string_view weight = trim_ows(element.substr(semicolon + 1));
  if (!equals_ignore_case(weight.substr(0, 2), "q=")) {
    return WeightedCoding{coding, 0};  // a parameter we cannot read: refuse, do not guess
  }
  return WeightedCoding{coding, parse_qvalue(weight.substr(2)).value_or(0)};
}

}  // namespace

std::optional<int> parse_qvalue(std::string_view text) {
  if (text.empty() || (text[0] != '0' && text[0] != '1')) return std::nullopt;
  const bool one = text[0] == '1';
  if (text.size() == 1) return one ? 1000 : 0;
  if (text[1] != '.' || text.size() > 5) return std::nullopt;
  int value = 0;
  int scale = 100;
  for (std::size_t i = 2; i < text.size(); ++i, scale /= 10) {
    const char c = text[i];
    if (c < '0' || c > '9' || (one && c != '0')) return std::nullopt;
    value += (c - '0') * scale;
  }
  return one ? 1000 : value;
}

int coding_weight(std::string_view accept_encoding, std::string_view coding) {
  if (!is_token(coding) || coding == "*") return 0;
  int listed = -1;  // lowest q of the entries naming `coding`; -1 when none does
  int star = -1;    // the same for "*"
  std::string_view rest = accept_encoding;
  while (true) {
    const std::size_t comma = rest.find(',');
    if (auto element = parse_element(rest.substr(0, comma))) {
      if (same_coding(element->coding, coding)) {
        listed = listed < 0 ? element->q : std::min(listed, element->q);
      } else if (element->coding == "*") {
        star = star < 0 ? element->q : std::min(star, element->q);
      }
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (listed >= 0) return listed;
  // RFC 9110 12.5.3: identity is acceptable by default, unless excluded by "*;q=0".
  if (equals_ignore_case(coding, "identity")) return star == 0 ? 0 : 1;
  return star > 0 ? star : 0;
}

CodingWeights coding_weights(std::string_view accept_encoding) {
  // Lowest q of the entries naming each; -1 when none does. Index: br, gzip, zstd, identity, *.
  int listed[5] = {-1, -1, -1, -1, -1};
  static constexpr std::string_view kNames[4] = {"br", "gzip", "zstd", "identity"};
  std::string_view rest = accept_encoding;
  while (true) {
    const std::size_t comma = rest.find(',');
    if (auto element = parse_element(rest.substr(0, comma))) {
      int index = -1;
      if (element->coding == "*") {
        index = 4;
      } else {
        for (int i = 0; i < 4 && index < 0; ++i) {
          if (same_coding(element->coding, kNames[i])) index = i;
        }
      }
      if (index >= 0) {
        int& q = listed[index];
        q = q < 0 ? element->q : std::min(q, element->q);
      }
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  const int star = listed[4];
  auto weight = [&](int i) { return listed[i] >= 0 ? listed[i] : (star > 0 ? star : 0); };
  CodingWeights w;
  w.br = weight(0);
  w.gzip = weight(1);
  w.zstd = weight(2);
  // RFC 9110 12.5.3: identity is acceptable by default, unless excluded by "*;q=0".
  w.identity = listed[3] >= 0 ? listed[3] : (star == 0 ? 0 : 1);
  return w;
}

bool accepts_coding(std::string_view accept_encoding, std::string_view coding) {
  return coding_weight(accept_encoding, coding) > 0;
}

}  // namespace cork
