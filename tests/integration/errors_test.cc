// Integration tests: every error status on the wire, its HTML body framed by an exact
// Content-Length, and whether the connection survives it (RFC 9112 9.6: after a malformed
// request the stream cannot be trusted, so the server closes).
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

using namespace std::string_view_literals;

using namespace std::chrono_literals;

constexpr const char* kA = "file a\n";

// What must happen to the connection after an error response.
enum class After {
  kCloses,     // the server closes: reading returns end of stream, with no bytes after the body
  kStaysOpen,  // a following request on the same connection is answered correctly
  kEither,     // kCloses if the response says "Connection: close", else kStaysOpen
};

// Sends `request` on a fresh connection and checks the error response: `status`, a non-empty
// HTML body framed by Content-Length, and what happens to the connection afterwards. Both
// branches also prove the Content-Length exact: extra bytes would show up after the body, or
// in front of the next response.
void expect_error(int port, const std::string& request, int status, After after,
                  HttpResponse* out = nullptr) {
  SCOPED_TRACE("request: \"" + printable(request, 200) + "\"");
  RawClient client;
  ASSERT_TRUE(client.connect(port));
  ASSERT_TRUE(client.send_all(request));
  HttpResponse response;
  ASSERT_TRUE(client.read_response(response));
  EXPECT_EQ(response.status, status) << "body: " << printable(response.body);
  EXPECT_FALSE(response.framed_by_close) << "error response without Content-Length";
  EXPECT_FALSE(response.body.empty()) << "error response without a body";
  std::string type = response.header("Content-Type").value_or("(none)");
  EXPECT_EQ(type.rfind("text/html", 0), 0u) << "Content-Type: " << type;
  EXPECT_EQ(response.header("Server"), "cork");
  EXPECT_TRUE(response.header("Date").has_value());

  std::string connection = response.header("Connection").value_or("");
  bool announces_close = connection.find("close") != std::string::npos;
  if (after == After::kCloses || (after == After::kEither && announces_close)) {
    Drained rest = client.read_until_close(3s);
    EXPECT_TRUE(rest.closed()) << "connection still open 3 s after a " << response.status;
    EXPECT_EQ(rest.data, "") << "bytes after the body: Content-Length is not exact";
  } else {
    ASSERT_TRUE(client.send_all(get_request("/a.txt")))
        << "server closed after a " << response.status << " without \"Connection: close\"";
    HttpResponse next;
    ASSERT_TRUE(client.read_response(next))
        << "no usable response after a " << response.status << " on the same connection";
    EXPECT_EQ(next.status, 200);
    EXPECT_EQ(next.body, kA);
  }
  if (out != nullptr) *out = response;
}

class ErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.put("a.txt", kA);
    server_.put("index.html", "<p>index</p>\n");
    server_.put("noindex/other.txt", "not an index\n");
    ASSERT_TRUE(server_.start());
  }
  int port() const { return server_.port(); }

  CorkProcess server_;
};

TEST_F(ErrorsTest, MissingFileIs404AndConnectionStaysOpen) {
  expect_error(port(), get_request("/missing.txt"), 404, After::kStaysOpen);
}

TEST_F(ErrorsTest, DirectoryWithoutIndexIs403AndConnectionStaysOpen) {
  expect_error(port(), get_request("/noindex/"), 403, After::kStaysOpen);
}

TEST_F(ErrorsTest, KnownMethodsOtherThanGetAndHeadAre405WithAllow) {
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    SCOPED_TRACE(method);
    HttpResponse response;
    expect_error(port(),
                 std::string(method) + " /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                     "Content-Length: 0\r\n\r\n",
                 405, After::kEither, &response);
    EXPECT_EQ(response.header("Allow"), "GET, HEAD");
  }
}

// The body of a refused POST must not be taken for the next request.
TEST_F(ErrorsTest, PostWithBodyIs405AndBodyIsNotParsedAsARequest) {
  const std::string body = "GET /missing.txt HTTP/1.1\r\nHost: x\r\n\r\n";
  HttpResponse response;
  expect_error(port(),
               "POST /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body,
               405, After::kEither, &response);
  EXPECT_EQ(response.header("Allow"), "GET, HEAD");
}

TEST_F(ErrorsTest, UnknownMethodIs501AndCloses) {
  expect_error(port(), "FOO /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 501, After::kCloses);
}

TEST_F(ErrorsTest, UnsupportedVersionIs505AndCloses) {
  for (const char* version : {"HTTP/0.9", "HTTP/2.0", "HTTP/3.0"}) {
    SCOPED_TRACE(version);
    expect_error(port(), std::string("GET /a.txt ") + version + "\r\nHost: 127.0.0.1\r\n\r\n", 505,
                 After::kCloses);
  }
}

TEST_F(ErrorsTest, RequestLineOverLimitIs414AndCloses) {
  // max_request_line = 8192 (the default).
  expect_error(port(), get_request("/a.txt?" + std::string(9000, 'q')), 414, After::kCloses);
}

TEST_F(ErrorsTest, RequestLineUnderLimitIsServed) {
  // "GET /a.txt?qqq... HTTP/1.1" is 8100 bytes, under 8192.
  std::string target = "/a.txt?" + std::string(8100 - 4 - 7 - 9, 'q');
  HttpResponse response;
  ASSERT_TRUE(fetch(port(), get_request(target), response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, kA);
}

TEST_F(ErrorsTest, HeadOverMaxHeaderBytesIs431AndCloses) {
  // max_header_bytes = 16384 (the default); one 20000-byte field.
  expect_error(port(), get_request("/a.txt", "X-Big: " + std::string(20000, 'b') + "\r\n"), 431,
               After::kCloses);
}

TEST_F(ErrorsTest, MoreThanMaxHeadersFieldsIs431AndCloses) {
  // max_headers = 100 (the default); Host plus 100 more is 101.
  std::string fields;
  for (int i = 0; i < 100; ++i)
    fields += "X-Field-" + std::to_string(i) + ": v\r\n";
  expect_error(port(), get_request("/a.txt", fields), 431, After::kCloses);
}

TEST_F(ErrorsTest, ExactlyMaxHeadersFieldsIsServed) {
  // Host plus 99 more is 100: not more than max_headers.
  std::string fields;
  for (int i = 0; i < 99; ++i)
    fields += "X-Field-" + std::to_string(i) + ": v\r\n";
  HttpResponse response;
  ASSERT_TRUE(fetch(port(), get_request("/a.txt", fields), response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, kA);
}

TEST_F(ErrorsTest, Http10WithoutHostIsServed) {
  HttpResponse response;
  ASSERT_TRUE(fetch(port(), "GET /a.txt HTTP/1.0\r\n\r\n", response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, kA);
}

// Each malformed request gets a 400 and a close.
struct BadRequest {
  const char* name;
  std::string_view request;  // may hold NUL bytes
};

class BadRequestTest : public ErrorsTest, public ::testing::WithParamInterface<BadRequest> {};

TEST_P(BadRequestTest, Is400AndCloses) {
  expect_error(port(), std::string(GetParam().request), 400, After::kCloses);
}

const BadRequest kBadRequests[] = {
    {"MissingHostOnHttp11", "GET /a.txt HTTP/1.1\r\n\r\n"},
    {"TwoHostFields", "GET /a.txt HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"},
    {"ObsFoldContinuationLine",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Folded: one\r\n two\r\n\r\n"},
    {"SpaceBetweenFieldNameAndColon",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Name : v\r\n\r\n"},
    {"TabBetweenFieldNameAndColon",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Name\t: v\r\n\r\n"},
    {"SpaceBeforeColonInHost", "GET /a.txt HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n"},
    {"ContentLengthAndTransferEncoding",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
    {"TwoContentLengths",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
    {"NegativeContentLength",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n"},
    {"GarbageRequestLine", "HELLO\r\n\r\n"},
    {"LowercaseHttpVersion", "GET /a.txt http/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
    {"TargetWithoutLeadingSlash", "GET a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
    {"ControlCharacterInFieldName", "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX\x01Y: v\r\n\r\n"},
    {"InvalidTokenCharacterInFieldName",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX(Y: v\r\n\r\n"},
    {"BareCrInFieldValue", "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX: a\rb\r\n\r\n"},
    {"BareCrAsLineEnd", "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\rX: b\r\n\r\n"},
    {"NulInFieldValue", "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX: a\0b\r\n\r\n"sv},
    // RFC 9112 5: a field line needs a name.
    {"EmptyFieldName", "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n: value\r\n\r\n"},
    {"EmptyFieldNameFirst", "GET /a.txt HTTP/1.1\r\n: value\r\nHost: 127.0.0.1\r\n\r\n"},
    // RFC 9112 3.2: a Host value that is not uri-host [ ":" port ].
    {"HostWithSpace", "GET /a.txt HTTP/1.1\r\nHost: a b\r\n\r\n"},
    {"HostWithSlash", "GET /a.txt HTTP/1.1\r\nHost: example/x\r\n\r\n"},
    {"HostWithUserinfo", "GET /a.txt HTTP/1.1\r\nHost: user@host\r\n\r\n"},
    {"HostWithNonNumericPort", "GET /a.txt HTTP/1.1\r\nHost: host:8x\r\n\r\n"},
    {"HostWithAngleBrackets", "GET /a.txt HTTP/1.1\r\nHost: ho<st>\r\n\r\n"},
    {"HostUnclosedIpLiteral", "GET /a.txt HTTP/1.1\r\nHost: [::1\r\n\r\n"},
    {"HostInvalidOnHttp10", "GET /a.txt HTTP/1.0\r\nHost: a b\r\n\r\n"},
    {"NulInFieldName", "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX\0Y: b\r\n\r\n"sv},
    {"TwoSpacesBeforeTarget", "GET  /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
    {"TwoSpacesBeforeVersion", "GET /a.txt  HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
    {"SpaceAfterVersion", "GET /a.txt HTTP/1.1 \r\nHost: 127.0.0.1\r\n\r\n"},
    {"MissingVersion", "GET /a.txt\r\nHost: 127.0.0.1\r\n\r\n"},
    {"NonNumericContentLength",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1a\r\n\r\n"},
    {"PlusSignContentLength",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: +5\r\n\r\nabcde"},
    {"ContentLengthList",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5, 5\r\n\r\nabcde"},
    {"OverflowingContentLength",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999999999999\r\n\r\n"},
    {"TransferEncodingOnHttp10",
     "GET /a.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
    {"OverflowingChunkSize",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     "fffffffffffffffff1\r\n"},
    {"MalformedChunkSize",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
    {"ChunkLongerThanItsSize",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5\r\nabcdefg\r\n0\r\n\r\n"},
    // Request smuggling: whatever follows a framing error is never answered as a request (the
    // test reads to the close and expects no second response).
    {"SmuggledRequestAfterClAndTe",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n"
     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
    {"SmuggledRequestAfterDuplicateCl",
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\n"
     "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
};

INSTANTIATE_TEST_SUITE_P(Causes, BadRequestTest, ::testing::ValuesIn(kBadRequests),
                         [](const ::testing::TestParamInfo<BadRequest>& param) {
                           return std::string(param.param.name);
                         });

TEST_F(ErrorsTest, Http2VersionIs505AndCloses) {
  expect_error(port(), "GET /a.txt HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505, After::kCloses);
  expect_error(port(), "GET /a.txt HTTP/3.0\r\nHost: 127.0.0.1\r\n\r\n", 505, After::kCloses);
}

TEST_F(ErrorsTest, UnknownTransferCodingIs501) {
  expect_error(port(),
               "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
               501, After::kCloses);
}

TEST_F(ErrorsTest, UnknownExpectationIs417AndCloses) {
  expect_error(port(),
               "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: teapot\r\nContent-Length: 3"
               "\r\n\r\n",
               417, After::kCloses);
}

// RFC 9110 10.1.1: a request cork refuses gets its final response at once, without 100
// Continue, even though the body it announced never comes.
TEST_F(ErrorsTest, RefusedRequestExpectingContinueGetsTheFinalResponseWithout100) {
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  ASSERT_TRUE(
      client.send_all("POST /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n"
                      "Expect: 100-continue\r\n\r\n"));
  HttpResponse response;
  ASSERT_TRUE(client.read_response(response, Method::kGet, 2s));
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.header("Allow"), "GET, HEAD");
  Drained rest = client.read_until_close(3s);
  EXPECT_TRUE(rest.closed());
  EXPECT_EQ(rest.data, "");
}

// An accepted request with a body and 100-continue gets 100 first, then its answer.
TEST_F(ErrorsTest, AcceptedRequestExpectingContinueGets100ThenTheResponse) {
  RawClient client;
  ASSERT_TRUE(client.connect(port()));
  ASSERT_TRUE(
      client.send_all("GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                      "Expect: 100-continue\r\n\r\n"));
  HttpResponse interim;
  ASSERT_TRUE(client.read_head(interim, 2s));
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(client.send_all("hello"));
  HttpResponse response;
  ASSERT_TRUE(client.read_response(response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, kA);
  // Still usable.
  ASSERT_TRUE(client.send_all(get_request("/a.txt")));
  ASSERT_TRUE(client.read_response(response));
  EXPECT_EQ(response.status, 200);
}

// max_connections reached: the extra connection gets a 503 and is closed; the held ones are
// unaffected, and closing one of them makes room again.
TEST(ConnectionLimitTest, ExtraConnectionGets503AndIsClosed) {
  CorkProcess server;
  server.put("a.txt", kA);
  server.set("server", "max_connections", "3");
  ASSERT_TRUE(server.start());

  std::vector<RawClient> held(3);
  for (RawClient& client : held) {
    ASSERT_TRUE(client.connect(server.port()));
    ASSERT_TRUE(client.send_all(get_request("/a.txt")));
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response));
    ASSERT_EQ(response.status, 200);
  }

  RawClient extra;
  ASSERT_TRUE(extra.connect(server.port()));
  ASSERT_TRUE(extra.send_all(get_request("/a.txt")));
  HttpResponse refused;
  ASSERT_TRUE(extra.read_response(refused));
  EXPECT_EQ(refused.status, 503);
  EXPECT_FALSE(refused.framed_by_close) << "503 without Content-Length";
  EXPECT_FALSE(refused.body.empty());
  Drained rest = extra.read_until_close(3s);
  EXPECT_TRUE(rest.closed()) << "the refused connection was not closed";
  EXPECT_EQ(rest.data, "");

  for (RawClient& client : held) {
    ASSERT_TRUE(client.send_all(get_request("/a.txt")));
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response));
    EXPECT_EQ(response.status, 200);
  }

  held[0].close();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    HttpResponse response;
    ASSERT_TRUE(fetch(server.port(), get_request("/a.txt"), response));
    status = response.status;
    if (status == 200) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(status, 200) << "a freed connection slot was not reused within 5 s";
}

}  // namespace
}  // namespace cork::integration
