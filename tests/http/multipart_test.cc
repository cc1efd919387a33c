// multipart/byteranges layout: the exact bytes of a body assembled as the server sends it
// (heads from memory, ranges from the file, tail), Content-Length, and a client-side parse.
#include "http/multipart.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cork {
namespace {

// A known 100-byte "file": "abcdefghijklmnopqrstuvwxyz" repeated.
std::string letters_file() {
  std::string file;
  for (int i = 0; i < 100; ++i)
    file += static_cast<char>('a' + i % 26);
  return file;
}

// A 100-byte binary "file" holding CR, LF and '-' among other bytes 0..99.
std::string binary_file() {
  std::string file;
  for (int i = 0; i < 100; ++i)
    file += static_cast<char>(i);
  return file;
}

// What the server puts on the wire: each head, then that range of the file, then the tail.
std::string assemble(const MultipartBody& body, std::string_view file) {
  std::string out;
  for (const MultipartPart& part : body.parts) {
    out += part.head;
    out += file.substr(part.range.first, part.range.length());
  }
  out += body.tail;
  return out;
}

// One part as a client sees it.
struct ParsedPart {
  std::string content_type;  // empty when absent
  std::string content_range;
  std::string data;
};

// Splits a multipart body on its boundary delimiter like a client would (RFC 2046 5.1.1).
// nullopt when the body is malformed.
std::optional<std::vector<ParsedPart>> parse_multipart(std::string_view body,
                                                       std::string_view boundary) {
  const std::string dash_boundary = "--" + std::string(boundary);
  const std::string delimiter = "\r\n" + dash_boundary;
  // An empty preamble's CRLF (what cork and nginx send), then the first dash-boundary.
  if (body.substr(0, 2) == "\r\n") body.remove_prefix(2);
  if (body.substr(0, dash_boundary.size()) != dash_boundary) return std::nullopt;
  body.remove_prefix(dash_boundary.size());
  std::vector<ParsedPart> parts;
  while (true) {
    if (body == "--\r\n") return parts;  // close-delimiter, no epilogue
    if (body.substr(0, 2) != "\r\n") return std::nullopt;
    body.remove_prefix(2);
    const std::size_t head_end = body.find("\r\n\r\n");
    if (head_end == std::string_view::npos) return std::nullopt;
    std::string_view fields = body.substr(0, head_end + 2);
    body.remove_prefix(head_end + 4);
    ParsedPart part;
    while (!fields.empty()) {
      const std::size_t eol = fields.find("\r\n");
      const std::string_view line = fields.substr(0, eol);
      fields.remove_prefix(eol + 2);
      const std::size_t colon = line.find(": ");
      if (colon == std::string_view::npos) return std::nullopt;
      const std::string_view name = line.substr(0, colon);
      const std::string_view value = line.substr(colon + 2);
      if (name == "Content-Type") {
        part.content_type = value;
      } else if (name == "Content-Range") {
        part.content_range = value;
      } else {
        return std::nullopt;
      }
    }
    const std::size_t next = body.find(delimiter);
    if (next == std::string_view::npos) return std::nullopt;
    part.data = body.substr(0, next);
    body.remove_prefix(next + delimiter.size());
    parts.push_back(std::move(part));
  }
}

TEST(Multipart, ExactBytesOfThreeParts) {
  const std::string file = letters_file();
  const std::string boundary = make_boundary(0xff);
  ASSERT_EQ(boundary, "cork-00000000000000ff");
  const std::vector<ByteRange> ranges = {{0, 9}, {50, 59}, {95, 99}};
  const MultipartBody body = build_multipart_byteranges(ranges, 100, "text/plain", boundary);

  ASSERT_EQ(body.parts.size(), 3u);
  EXPECT_EQ(body.parts[0].head,
            "\r\n--cork-00000000000000ff\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Range: bytes 0-9/100\r\n"
            "\r\n");
  EXPECT_EQ(body.parts[1].head,
            "\r\n--cork-00000000000000ff\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Range: bytes 50-59/100\r\n"
            "\r\n");
  for (std::size_t i = 0; i < ranges.size(); ++i)
    EXPECT_EQ(body.parts[i].range, ranges[i]);
  EXPECT_EQ(body.tail, "\r\n--cork-00000000000000ff--\r\n");

  const std::string wire = assemble(body, file);
  EXPECT_EQ(wire,
            "\r\n--cork-00000000000000ff\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Range: bytes 0-9/100\r\n"
            "\r\n"
            "abcdefghij"
            "\r\n--cork-00000000000000ff\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Range: bytes 50-59/100\r\n"
            "\r\n"
            "yzabcdefgh"
            "\r\n--cork-00000000000000ff\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Range: bytes 95-99/100\r\n"
            "\r\n"
            "rstuv"
            "\r\n--cork-00000000000000ff--\r\n");
  EXPECT_EQ(body.content_length, wire.size());
}

TEST(Multipart, NoContentTypeLineWhenTypeIsEmpty) {
  const std::string file = letters_file();
  const MultipartBody body = build_multipart_byteranges({{1, 2}, {98, 99}}, 100, "", "B");
  const std::string wire = assemble(body, file);
  EXPECT_EQ(wire,
            "\r\n--B\r\nContent-Range: bytes 1-2/100\r\n\r\nbc"
            "\r\n--B\r\nContent-Range: bytes 98-99/100\r\n\r\nuv"
            "\r\n--B--\r\n");
  EXPECT_EQ(body.content_length, wire.size());
}

TEST(Multipart, ClientParsesEveryPartBack) {
  for (const std::string& file : {letters_file(), binary_file()}) {
    for (const std::string_view content_type : {"application/octet-stream", ""}) {
      const std::vector<ByteRange> ranges = {{0, 0}, {10, 14}, {20, 99}};
      const std::string boundary = make_boundary(0x0123456789abcdefull);
      const MultipartBody body = build_multipart_byteranges(ranges, 100, content_type, boundary);
      const std::string wire = assemble(body, file);
      EXPECT_EQ(body.content_length, wire.size());

      const auto parsed = parse_multipart(wire, boundary);
      ASSERT_TRUE(parsed.has_value());
      ASSERT_EQ(parsed->size(), ranges.size());
      for (std::size_t i = 0; i < ranges.size(); ++i) {
        const ParsedPart& part = (*parsed)[i];
        const ByteRange& range = ranges[i];
        EXPECT_EQ(part.content_type, content_type);
        EXPECT_EQ(part.content_range, "bytes " + std::to_string(range.first) + "-" +
                                          std::to_string(range.last) + "/100");
        EXPECT_EQ(part.data, file.substr(range.first, range.length()));
      }
    }
  }
}

TEST(Multipart, ContentLengthOfAHugeFile) {
  // Not materialised: heads and tail are small, the ranges are counted, not copied.
  constexpr std::uint64_t kLen = 1ull << 40;
  const std::vector<ByteRange> ranges = {{0, (1ull << 32) - 1}, {kLen - 10, kLen - 1}};
  const MultipartBody body = build_multipart_byteranges(ranges, kLen, "video/mp4", "X");
  ASSERT_EQ(body.parts.size(), 2u);
  EXPECT_EQ(body.parts[1].head,
            "\r\n--X\r\nContent-Type: video/mp4\r\n"
            "Content-Range: bytes 1099511627766-1099511627775/1099511627776\r\n\r\n");
  const std::uint64_t heads = body.parts[0].head.size() + body.parts[1].head.size();
  EXPECT_EQ(body.content_length, heads + (1ull << 32) + 10 + body.tail.size());
}

TEST(Multipart, ContentType) {
  EXPECT_EQ(multipart_content_type("cork-00000000000000ff"),
            "multipart/byteranges; boundary=cork-00000000000000ff");
}

TEST(Multipart, BoundaryIsDeterministicAndDependsOnTheSeed) {
  EXPECT_EQ(make_boundary(0), "cork-0000000000000000");
  EXPECT_EQ(make_boundary(0x0123456789abcdefull), "cork-0123456789abcdef");
  EXPECT_EQ(make_boundary(~0ull), "cork-ffffffffffffffff");
  EXPECT_EQ(make_boundary(42), make_boundary(42));
  EXPECT_NE(make_boundary(42), make_boundary(43));
  // RFC 2046 5.1.1: 1 to 70 bchars, not ending in a space.
  const std::string boundary = make_boundary(0xdeadbeef);
  EXPECT_LE(boundary.size(), 70u);
  for (char c : boundary) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-') << c;
  }
}

}  // namespace
}  // namespace cork
