// Integration tests: GET and HEAD of regular files on the real binary, and the fields of a 200.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

// 2001-09-09T01:46:40Z, a Sunday.
constexpr std::time_t kKnownMtime = 1'000'000'000;
constexpr const char* kKnownMtimeText = "Sun, 09 Sep 2001 01:46:40 GMT";

// Parses an IMF-fixdate (RFC 9110 5.6.7) strictly, including a weekday that matches the date.
std::optional<std::time_t> parse_imf_fixdate(const std::string& text) {
  static const std::regex kFormat(
      "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
      "[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT");
  if (!std::regex_match(text, kFormat)) return std::nullopt;
  std::tm fields{};
  if (::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &fields) == nullptr) {
    return std::nullopt;
  }
  std::time_t seconds = ::timegm(&fields);
  // Formatting it back catches a wrong weekday or an out-of-range field.
  std::tm again{};
  ::gmtime_r(&seconds, &again);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &again);
  if (text != buffer) return std::nullopt;
  return seconds;
}

class BasicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.put("index.html", kIndex);
    server_.put("readme.txt", "plain text\n");
    server_.put("style.css", "body { color: red; }\n");
    server_.put("app.js", "console.log('cork');\n");
    server_.put("logo.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
    server_.put("data.xyzzy", "unknown extension");
    server_.put("hello world.txt", "spaced\n");
    server_.put("sub/page.html", "<p>sub</p>\n");
    set_mtime(server_.put("dated.txt", "dated\n"), kKnownMtime);
    ASSERT_TRUE(server_.start());
  }

  static constexpr const char* kIndex = "<!doctype html><title>cork</title><h1>index</h1>\n";
  CorkProcess server_;
};

TEST_F(BasicTest, GetRegularFileHasExactHeadersAndBody) {
  HttpResponse response;
  ASSERT_TRUE(fetch(server_.port(), get_request("/dated.txt"), response));
  EXPECT_EQ(response.version, "HTTP/1.1");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "dated\n");
  EXPECT_EQ(response.header("Content-Length"), "6");
  EXPECT_EQ(response.header_count("Content-Length"), 1u);
  EXPECT_EQ(response.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(response.header("Server"), "cork");
  EXPECT_EQ(response.header("Last-Modified"), kKnownMtimeText);
  EXPECT_EQ(response.header_count("Date"), 1u);
}

TEST_F(BasicTest, DateIsImfFixdateOfNow) {
  HttpResponse response;
  std::time_t before = std::time(nullptr);
  ASSERT_TRUE(fetch(server_.port(), get_request("/readme.txt"), response));
  std::time_t after = std::time(nullptr);
  ASSERT_EQ(response.status, 200);
  std::optional<std::string> date = response.header("Date");
  ASSERT_TRUE(date.has_value()) << "no Date field";
  std::optional<std::time_t> parsed = parse_imf_fixdate(*date);
  ASSERT_TRUE(parsed.has_value()) << "Date is not an IMF-fixdate: \"" << *date << "\"";
  EXPECT_GE(*parsed, before - 1) << *date;
  EXPECT_LE(*parsed, after + 1) << *date;
  std::optional<std::string> modified = response.header("Last-Modified");
  ASSERT_TRUE(modified.has_value()) << "no Last-Modified field";
  EXPECT_TRUE(parse_imf_fixdate(*modified).has_value())
      << "Last-Modified is not an IMF-fixdate: \"" << *modified << "\"";
}

TEST_F(BasicTest, ContentTypeFollowsExtension) {
  struct Case {
    const char* target;
    std::vector<std::string> accepted;
  };
  const Case cases[] = {
      {"/index.html", {"text/html; charset=utf-8"}},
      {"/sub/page.html", {"text/html; charset=utf-8"}},
      {"/style.css", {"text/css; charset=utf-8"}},
      // RFC 9239 makes text/javascript the type; application/javascript is still common.
      {"/app.js", {"text/javascript; charset=utf-8", "application/javascript; charset=utf-8"}},
      {"/logo.png", {"image/png"}},
      {"/readme.txt", {"text/plain; charset=utf-8"}},
      {"/data.xyzzy", {"application/octet-stream"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target);
    HttpResponse response;
    ASSERT_TRUE(fetch(server_.port(), get_request(c.target), response));
    EXPECT_EQ(response.status, 200);
    std::optional<std::string> type = response.header("Content-Type");
    ASSERT_TRUE(type.has_value()) << "no Content-Type";
    EXPECT_NE(std::find(c.accepted.begin(), c.accepted.end(), *type), c.accepted.end())
        << "Content-Type: " << *type;
  }
}

TEST_F(BasicTest, PngBodyIsBinaryExact) {
  HttpResponse response;
  ASSERT_TRUE(fetch(server_.port(), get_request("/logo.png"), response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
}

TEST_F(BasicTest, SlashServesIndexHtml) {
  HttpResponse response;
  ASSERT_TRUE(fetch(server_.port(), get_request("/"), response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, kIndex);
  EXPECT_EQ(response.header("Content-Type"), "text/html; charset=utf-8");
}

// HEAD then GET on one connection: if HEAD carried a body, the GET's response would not parse.
TEST_F(BasicTest, HeadHasTheHeadOfGetAndNoBody) {
  RawClient client;
  ASSERT_TRUE(client.connect(server_.port()));
  ASSERT_TRUE(client.send_all(head_request("/index.html")));
  HttpResponse head;
  ASSERT_TRUE(client.read_response(head, Method::kHead));
  ASSERT_TRUE(client.send_all(get_request("/index.html")));
  HttpResponse get;
  ASSERT_TRUE(client.read_response(get));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, kIndex);
  EXPECT_EQ(head.header("Content-Length"), std::to_string(std::string(kIndex).size()));
  EXPECT_EQ(head.header("Content-Type"), get.header("Content-Type"));
  EXPECT_EQ(head.header("Last-Modified"), get.header("Last-Modified"));
  EXPECT_EQ(head.header("Server"), "cork");
  EXPECT_TRUE(head.header("Date").has_value());
}

// Pipelined HEAD and GET in one send: the same check without a round trip in between.
TEST_F(BasicTest, PipelinedHeadThenGet) {
  RawClient client;
  ASSERT_TRUE(client.connect(server_.port()));
  ASSERT_TRUE(client.send_all(head_request("/style.css") + get_request("/readme.txt")));
  HttpResponse head;
  ASSERT_TRUE(client.read_response(head, Method::kHead));
  HttpResponse get;
  ASSERT_TRUE(client.read_response(get));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "21");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "plain text\n");
}

TEST_F(BasicTest, QueryIsIgnoredForLookup) {
  HttpResponse response;
  ASSERT_TRUE(fetch(server_.port(), get_request("/readme.txt?download=1&x=%2e%2e"), response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "plain text\n");
}

TEST_F(BasicTest, TargetIsPercentDecoded) {
  HttpResponse response;
  ASSERT_TRUE(fetch(server_.port(), get_request("/hello%20world.txt"), response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "spaced\n");
  ASSERT_TRUE(fetch(server_.port(), get_request("/%72eadme.txt"), response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "plain text\n");
}

TEST_F(BasicTest, AbsoluteFormTargetIsAccepted) {
  HttpResponse response;
  std::string request = "GET http://127.0.0.1:" + std::to_string(server_.port()) +
                        "/readme.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_TRUE(fetch(server_.port(), request, response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "plain text\n");
}

TEST_F(BasicTest, MissingFileIs404WithHtmlBody) {
  HttpResponse response;
  ASSERT_TRUE(fetch(server_.port(), get_request("/no-such-file.html"), response));
  EXPECT_EQ(response.status, 404);
  EXPECT_FALSE(response.framed_by_close) << "error response without Content-Length";
  EXPECT_FALSE(response.body.empty());
  std::optional<std::string> type = response.header("Content-Type");
  EXPECT_TRUE(type && type->rfind("text/html", 0) == 0) << type.value_or("(none)");
}

}  // namespace
}  // namespace cork::integration
