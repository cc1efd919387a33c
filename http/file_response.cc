// The response decision for a file: coding, preconditions, ranges, in RFC 9110 order. Must not
// read the file system or the clock (the caller passes them in FileFacts and the options).
#include "http/file_response.h"

#include <fmt/format.h>

#include "http/conditional.h"

namespace cork {

const RepresentationFacts& FileFacts::of(Coding coding) const {
  switch (coding) {
    case Coding::kBrotli:
      return br;
    case Coding::kGzip:
      return gzip;
    case Coding::kZstd:
      return zstd;
    case Coding::kIdentity:
      break;
  }
  return identity;
}

int weight_of(const CodingWeights& weights, Coding coding) {
  switch (coding) {
    case Coding::kBrotli:
      return weights.br;
    case Coding::kGzip:
      return weights.gzip;
    case Coding::kZstd:
      return weights.zstd;
    case Coding::kIdentity:
      break;
  }
  return weights.identity;
}

CodingWeights request_coding_weights(const RequestHead& request) {
  if (request.count("accept-encoding") == 1)
    return coding_weights(*request.header("accept-encoding"));
  return coding_weights(request.combined("accept-encoding").value_or(""));
}

Coding choose_coding(const RequestHead& request, const FileFacts& file) {
  if (!file.has_variants()) return Coding::kIdentity;
  return preferred_coding(request_coding_weights(request),
                          [&](Coding c) { return file.of(c).present; });
}

FileDecision decide_file_response(const RequestHead& request, const FileFacts& file,
                                  const FileResponseOptions& options) {
  FileDecision d;
  d.coding =
      !file.has_variants() ? Coding::kIdentity
      : options.accept_encoding
          ? preferred_coding(*options.accept_encoding, [&](Coding c) { return file.of(c).present; })
          : choose_coding(request, file);
  const RepresentationFacts& rep = file.of(d.coding);
  d.vary = file.has_variants() || file.negotiable ? "Accept-Encoding" : "";
  const Validators validators{rep.etag, rep.last_modified, options.now};
  switch (evaluate_preconditions(request, validators)) {
    case Precondition::kFailed:
      d.status = 412;
      return d;
    case Precondition::kNotModified:
      d.status = 304;
      return d;
    case Precondition::kProceed:
      break;
  }
  const bool is_get = request.method == Method::kGet;
  RangeDecision ranges;
  // RFC 9110 14.2: Range is ignored unless there is exactly one field and If-Range allows it.
  if (request.count("range") == 1 && if_range_allows(request, validators)) {
    ranges = decide_range(*request.header("range"), rep.size, options.max_ranges);
  }
  switch (ranges.kind) {
    case RangeDecision::Kind::kUnsatisfiable:
      // RFC 9110 15.5.17: 416 says the current length.
      d.status = 416;
      d.content_range = fmt::format("bytes */{}", rep.size);
      return d;
    case RangeDecision::Kind::kFull:
      d.status = 200;
      d.content_length = rep.size;
      d.send_body = is_get && rep.size > 0;
      return d;
    case RangeDecision::Kind::kPartial:
      break;
  }
  d.status = 206;
  d.ranges = std::move(ranges.ranges);
  if (d.ranges.size() == 1) {
    const ByteRange& r = d.ranges.front();
    d.content_range = fmt::format("bytes {}-{}/{}", r.first, r.last, rep.size);
    d.content_length = r.length();
  } else {
    // RFC 9110 14.6: several ranges go out as multipart/byteranges, each part with its own
    // Content-Type and Content-Range; the exact length is known before the first byte is sent.
    const std::string boundary = make_boundary(options.boundary_seed);
    d.multipart = build_multipart_byteranges(d.ranges, rep.size, file.content_type, boundary);
    d.multipart_type = multipart_content_type(boundary);
    d.content_length = d.multipart.content_length;
  }
  d.send_body = is_get;
  return d;
}

}  // namespace cork
