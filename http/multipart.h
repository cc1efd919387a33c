// The layout of a multipart/byteranges body (RFC 9110 14.6), computed before anything is sent
// so the response's Content-Length is exact. Pure: it produces the part heads and the tail as
// strings and says which file bytes go between them; it must not read the file or do I/O (the
// server sends each head from memory and each range with sendfile).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/range.h"

namespace cork {

// Copyable value: one body part.
struct MultipartPart {
  // "\r\n--BOUNDARY\r\nContent-Type: T\r\nContent-Range: bytes a-b/len\r\n\r\n", the first
  // part's head too (byte-compatible with nginx; zsync depends on the leading CRLF).
  std::string head;
  ByteRange range;  // the file bytes that follow this head
};

// Copyable value: the whole body is, in order, each part's head then its range's bytes, then
// the tail.
struct MultipartBody {
  std::vector<MultipartPart> parts;
  std::string tail;                  // "\r\n--BOUNDARY--\r\n"
  std::uint64_t content_length = 0;  // all heads + all range bytes + tail
};

// `ranges` as decide_range returns them (each first <= last < length); `length` the
// representation's size for Content-Range; `content_type` may be empty (then the parts carry
// no Content-Type line); `boundary` as make_boundary returns it. `length` must be below 2^63
// (every file size is: off_t), so that content_length cannot wrap.
MultipartBody build_multipart_byteranges(const std::vector<ByteRange>& ranges, std::uint64_t length,
                                         std::string_view content_type, std::string_view boundary);

// The response's Content-Type: "multipart/byteranges; boundary=BOUNDARY".
std::string multipart_content_type(std::string_view boundary);

// "cork-" followed by the seed as 16 lowercase hex digits. Deterministic for a seed; the caller
// passes a per-response random number so the delimiter is unlikely to occur in the file's bytes
// (it cannot occur in the heads, which hold only the content type and digits). The result is a
// valid RFC 2046 boundary: 21 characters of bchars, no trailing space, no quoting needed.
std::string make_boundary(std::uint64_t seed);

}  // namespace cork
