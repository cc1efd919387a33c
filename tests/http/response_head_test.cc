// append_response_head: the exact bytes of response heads, field order, and optional fields.
#include "http/response_head.h"

#include <gtest/gtest.h>

#include <string>

namespace cork {
namespace {

std::string format(const ResponseHead& head) {
  fmt::memory_buffer out;
  append_response_head(out, head);
  return std::string(out.data(), out.size());
}

constexpr const char* kDate = "Sun, 06 Nov 1994 08:49:37 GMT";

TEST(ResponseHead, MinimalHead) {
  ResponseHead head;
  head.status = 404;
  head.date = kDate;
  head.content_type = "text/html; charset=utf-8";
  head.content_length = 12;
  EXPECT_EQ(format(head),
            "HTTP/1.1 404 Not Found\r\nServer: cork\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: text/html; charset=utf-8\r\nContent-Length: 12\r\n\r\n");
}

TEST(ResponseHead, EveryFieldInOrder) {
  ResponseHead head;
  head.status = 206;
  head.date = kDate;
  head.content_type = "text/plain; charset=utf-8";
  head.content_length = 100;
  head.content_range = "bytes 0-99/1000";
  head.content_encoding = "gzip";
  head.last_modified = 784111777;
  head.etag = "\"2ebc4ba1-3e8\"";
  head.accept_ranges = true;
  head.vary = "Accept-Encoding";
  head.cache_control = "max-age=60";
  head.location = "/x/";
  head.allow = "GET, HEAD";
  head.retry_after = "1";
  head.connection = "close";
  EXPECT_EQ(format(head),
            "HTTP/1.1 206 Partial Content\r\nServer: cork\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 100\r\n"
            "Content-Range: bytes 0-99/1000\r\nContent-Encoding: gzip\r\n"
            "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nETag: \"2ebc4ba1-3e8\"\r\n"
            "Accept-Ranges: bytes\r\nVary: Accept-Encoding\r\nCache-Control: max-age=60\r\n"
            "Location: /x/\r\nAllow: GET, HEAD\r\nRetry-After: 1\r\nConnection: close\r\n\r\n");
}

TEST(ResponseHead, NotModifiedOmitsContentLength) {
  ResponseHead head;
  head.status = 304;
  head.date = kDate;
  head.omit_content_length = true;
  head.etag = "\"a\"";
  const std::string text = format(head);
  EXPECT_EQ(text.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u);
  EXPECT_EQ(text.find("Content-Length"), std::string::npos);
  EXPECT_NE(text.find("ETag: \"a\"\r\n"), std::string::npos);
}

// A cached file's fields, formatted once, give the same head as formatting them each time.
TEST(ResponseHead, PreformattedFieldsGiveTheSameHead) {
  ResponseHead head;
  head.status = 200;
  head.date = kDate;
  head.content_type = "text/css; charset=utf-8";
  head.content_length = 1234;
  head.content_encoding = "br";
  head.last_modified = 784111777;
  head.etag = "\"x-br\"";
  head.accept_ranges = true;
  head.vary = "Accept-Encoding";
  head.cache_control = "max-age=1";
  head.connection = "keep-alive";
  fmt::memory_buffer fields;
  append_representation_fields(fields, head);
  const std::string preformatted(fields.data(), fields.size());
  ResponseHead fast;
  fast.status = 200;
  fast.date = kDate;
  fast.connection = "keep-alive";
  fast.preformatted_fields = preformatted;
  EXPECT_EQ(format(fast), format(head));
  EXPECT_EQ(preformatted.rfind("Content-Type: text/css; charset=utf-8\r\n", 0), 0u);
}

TEST(ResponseHead, ZeroLengthIsStillSent) {
  ResponseHead head;
  head.status = 200;
  EXPECT_NE(format(head).find("Content-Length: 0\r\n"), std::string::npos);
  EXPECT_EQ(format(head).find("Date:"), std::string::npos);  // no date given, none sent
}

}  // namespace
}  // namespace cork
