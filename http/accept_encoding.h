// Content negotiation on Accept-Encoding (RFC 9110 12.5.3): may the response carry a given
// content coding? Pure functions over the field value. They never throw, never allocate and
// never assert: the value comes from the network, and a malformed value must only ever make
// the answer "no" for the element it spoils, never crash or make a refused coding acceptable.
#pragma once

#include <optional>
#include <string_view>

namespace cork {

// Parses a qvalue (RFC 9110 12.4.2) into thousandths: "1" -> 1000, "0.5" -> 500, "0.001" -> 1.
// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); no surrounding whitespace.
// std::nullopt for anything else ("1.5", "abc", "", ".5", "0.0001").
std::optional<int> parse_qvalue(std::string_view text);

// True when the field value allows `coding` ("gzip", "br"): listed with q > 0, or not listed and
// "*" present with q > 0. Codings and the parameter name "q" compare case-insensitively;
// "x-gzip" counts as "gzip" and "x-compress" as "compress" (RFC 9110 8.4.1.1, 8.4.1.3). A coding
// listed with q=0 is refused even if "*" allows others; listed twice, the lower q wins.
// Malformed elements (no coding token, e.g. ";;") are skipped; an element whose weight cannot be
// read ("gzip;q=abc", "gzip;q=1.5", "gzip;level=9") counts as q=0, refusing rather than guessing.
// An empty field value accepts no coding (RFC 9110 12.5.3). "identity" follows 12.5.3 too: it
// is acceptable unless refused by "identity;q=0", or by "*;q=0" without an "identity" entry.
// The caller handles an absent field (RFC 9110 allows any coding then; sending none is safer).
bool accepts_coding(std::string_view accept_encoding, std::string_view coding);

// The weight (thousandths, 0..1000) the field value gives `coding`, by the same rules as
// accepts_coding(): its own entry's q (the lowest when listed twice), else that of "*", else 0.
// "identity" not listed and not refused by "*;q=0" weighs 1, the least of any acceptable
// coding: RFC 9110 12.5.3 makes it acceptable without saying how much, and a client that lists
// a coding wants it. accepts_coding(v, c) == (coding_weight(v, c) > 0).
int coding_weight(std::string_view accept_encoding, std::string_view coding);

// coding_weight() of br, gzip, zstd and identity, from one pass over the field value (what a
// response chooses among). Copyable value.
struct CodingWeights {
  int br = 0;
  int gzip = 0;
  int zstd = 0;
  int identity = 1000;  // an absent field accepts identity
};
CodingWeights coding_weights(std::string_view accept_encoding);

}  // namespace cork
