// The response decision for a GET or HEAD of an existing file, as a value: which representation
// (the file or a precompressed sibling), which status (200, 206, 304, 412, 416), Vary,
// Content-Range, the byte ranges or multipart layout, the Content-Length and whether a body
// follows. Pure: the caller passes what it knows of the file (sizes and validators of each
// representation) and the clock; no file system, no socket, no clock read here. The server's
// handler turns the decision into a response plan; the rules live here so that their
// combinations (conditional + range + encoding + HEAD) are unit-tested without a socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/accept_encoding.h"
#include "http/coding.h"
#include "http/multipart.h"
#include "http/range.h"
#include "http/request.h"

namespace cork {

// What the decision needs to know of one representation. Copyable value; `etag` borrows.
struct RepresentationFacts {
  bool present = false;  // a sibling that exists and is fresh (identity is always present)
  std::uint64_t size = 0;
  std::time_t last_modified = 0;
  std::string_view etag;  // strong, quotes included
};

// What the decision needs to know of the file. Copyable value; borrows its strings.
struct FileFacts {
  RepresentationFacts identity;
  RepresentationFacts br;
  RepresentationFacts gzip;
  RepresentationFacts zstd;
  std::string_view content_type;  // for the parts of a multipart/byteranges body
  // The response depends on Accept-Encoding even when no coded representation is present now
  // (one compressed on the fly may be on its way): Vary is sent all the same.
  bool negotiable = false;
  bool has_variants() const { return br.present || gzip.present || zstd.present; }
  const RepresentationFacts& of(Coding coding) const;
};

// The knobs of the decision. Copyable value.
struct FileResponseOptions {
  // The Accept-Encoding weights when the caller parsed them already (else they are parsed).
  std::optional<CodingWeights> accept_encoding;
  std::size_t max_ranges = 16;
  std::time_t now = 0;              // the response's Date, for If-Range's strong-date rule
  std::uint64_t boundary_seed = 0;  // for a multipart/byteranges boundary (random per response)
};

// Copyable value.
struct FileDecision {
  int status = 200;  // 200, 206, 304, 412 or 416
  Coding coding = Coding::kIdentity;
  // "Accept-Encoding" for every response about a file that has a sibling, whichever one is
  // served (RFC 9110 12.5.5), also 304 and 206; else empty.
  std::string_view vary;
  // 206 with one range: "bytes a-b/size"; 416: "bytes */size"; else empty.
  std::string content_range;
  // 206: the ranges of the selected representation, in the order they are sent.
  std::vector<ByteRange> ranges;
  // 206 with several ranges: the part heads and tail (content_type says the boundary).
  MultipartBody multipart;
  std::string multipart_type;  // "multipart/byteranges; boundary=..." when multipart
  // Content-Length of a 200/206 (for a HEAD too: what a GET would send).
  std::uint64_t content_length = 0;
  // Whether body bytes follow the head: GET of a 200/206 with content. Never for HEAD, 304,
  // 412 (an error page is the caller's) or 416.
  bool send_body = false;
  bool multipart_body() const { return status == 206 && ranges.size() > 1; }
};

// The representation a request prefers among those present (RFC 9110 12.5.3): the coding with
// the highest weight in Accept-Encoding, ties going br > zstd > gzip (smallest first), unless
// identity is listed with a higher weight than all of them. Identity when no present coding is
// acceptable (even if "identity;q=0" refuses it: sending it is what RFC 9110 12.5.3 asks when
// nothing else is acceptable, rather than a 406 for a static file), and for an absent or empty
// field.
Coding choose_coding(const RequestHead& request, const FileFacts& file);
// Accept-Encoding's weights for br, gzip, zstd and identity (all its fields as one list).
CodingWeights request_coding_weights(const RequestHead& request);
// The same over the field's weights (coding_weights()) and the set of codings present: for
// callers that must know which coding to make before it is present (the compressor).
// `present(coding)` says whether it is. An absent or empty field weighs every coding 0:
// identity.
template <typename Present>
Coding preferred_coding(const CodingWeights& weights, Present present);
// The weight of one coding in `weights`; identity's for Coding::kIdentity.
int weight_of(const CodingWeights& weights, Coding coding);
// The weight order of the codings at equal q.
inline constexpr Coding kCodingPreference[] = {Coding::kBrotli, Coding::kZstd, Coding::kGzip};

// The whole decision, in RFC 9110 order: coding (12.5.3), preconditions against the selected
// representation's validators (13.2.2: 412 / 304), then Range (14.2: only one Range field, and
// only if If-Range allows it): 416 when unsatisfiable, 206 with one or several ranges, else 200.
// A HEAD gets the head its GET would get (RFC 9110 9.3.2), a 206 included.
FileDecision decide_file_response(const RequestHead& request, const FileFacts& file,
                                  const FileResponseOptions& options);

template <typename Present>
Coding preferred_coding(const CodingWeights& weights, Present present) {
  Coding best = Coding::kIdentity;
  int best_q = 0;
  for (const Coding coding : kCodingPreference) {
    if (!present(coding)) continue;
    const int q = weight_of(weights, coding);
    if (q > best_q) {
      best = coding;
      best_q = q;
    }
  }
  if (best_q == 0) return Coding::kIdentity;
  // Identity wins only when the client weighs it above every coding it could get.
  return weights.identity > best_q ? Coding::kIdentity : best;
}

}  // namespace cork
