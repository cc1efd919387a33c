// multipart/byteranges layout (RFC 9110 14.6, body syntax of RFC 2046 5.1.1). Only formats
// strings from values cork computed itself; must not do I/O or look at the file's bytes.
#include "http/multipart.h"

#include <cassert>
#include <iterator>
#include <utility>

#include <fmt/format.h>

namespace cork {

MultipartBody build_multipart_byteranges(const std::vector<ByteRange>& ranges, std::uint64_t length,
                                         std::string_view content_type, std::string_view boundary) {
  MultipartBody body;
  body.parts.reserve(ranges.size());
  std::uint64_t total = 0;
  for (const ByteRange& range : ranges) {
    // Ranges come from decide_range, never straight from the network.
    assert(range.first <= range.last && range.last < length);
    MultipartPart part;
    part.range = range;
    auto it = std::back_inserter(part.head);
    // RFC 2046 5.1.1: the CRLF before "--boundary" belongs to the delimiter. The first part
    // has it too (an empty preamble, which RFC 2046 allows): nginx frames its parts so, and
    // zsync's parser expects it (it loops forever on a body that starts with "--").
    fmt::format_to(it, "\r\n--{}\r\n", boundary);
    if (!content_type.empty()) fmt::format_to(it, "Content-Type: {}\r\n", content_type);
    // RFC 9110 14.4: Content-Range = range-unit SP first-pos "-" last-pos "/" complete-length.
    fmt::format_to(it, "Content-Range: bytes {}-{}/{}\r\n\r\n", range.first, range.last, length);
    total += part.head.size() + range.length();
    body.parts.push_back(std::move(part));
  }
  body.tail = fmt::format("\r\n--{}--\r\n", boundary);
  body.content_length = total + body.tail.size();
  return body;
}

std::string multipart_content_type(std::string_view boundary) {
  return fmt::format("multipart/byteranges; boundary={}", boundary);
}

std::string make_boundary(std::uint64_t seed) {
  return fmt::format("cork-{:016x}", seed);
}

}  // namespace cork
