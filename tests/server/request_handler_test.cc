// RequestHandler: the plan for each kind of request (file, error, redirect, listing, status
// page, refusals), and the keep-alive and 100-continue decisions, without a socket. The pure
// file rules have their own tests (tests/http/file_response_test.cc); these check the wiring.
#include "server/request_handler.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "server/clock.h"
#include "server/server_test_support.h"

namespace cork {
namespace {

using testing::FakeClock;
using testing::FixedGauges;
using testing::TempRoot;
using Fields = std::vector<std::pair<std::string, std::string>>;

RequestHead request(Method method, std::string target, const Fields& fields = {},
                    int version_minor = 1) {
  RequestHead h;
  h.method = method;
  h.method_name = method == Method::kHead ? "HEAD" : method == Method::kGet ? "GET" : "POST";
  h.target = std::move(target);
  h.version_minor = version_minor;
  h.keep_alive = version_minor == 1;
  for (const auto& [name, value] : fields) {
    h.begin_field();
    h.append_name(name);
    h.append_value(value);
  }
  return h;
}

class RequestHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_.write_file("index.html", "<h1>home</h1>");
    root_.write_file("small.txt", "hello, world");
    root_.write_file("big.bin", std::string(100 * 1024, 'b'));
    root_.write_file("dir/a.txt", "a");
    root_.write_file("style.css", "body{}");
    root_.write_file("style.css.gz", "gz-bytes");
    Config config;
    config.status_path = "/.cork/status";
    settings_ = testing::settings_for(root_, config);
    peer_ = testing::loopback_peer();
  }

  RequestFacts facts(RequestBody body = RequestBody::kNone) const {
    RequestFacts f;
    f.peer = &peer_;
    f.now_ms = clock_.monotonic_ms();
    f.wall = clock_.wall_seconds();
    f.date = date_;
    f.body = body;
    return f;
  }

  ResponsePlan handle(const RequestHead& head, RequestBody body = RequestBody::kNone) {
    return handler_.handle(head, *settings_, facts(body));
  }

  TempRoot root_;
  FakeClock clock_;
  std::string date_ = "Sun, 15 Jun 2025 15:06:40 GMT";
  FixedGauges gauges_;
  Logger log_;
  Metrics metrics_;
  RequestHandler handler_{log_, metrics_, gauges_};
  std::shared_ptr<const Settings> settings_;
  sockaddr_storage peer_{};
};

bool has_field(const ResponsePlan& plan, std::string_view line) {
  return plan.head.find(std::string(line) + "\r\n") != std::string::npos;
}

TEST_F(RequestHandlerTest, SmallFileGoesWithTheHeadFromTheCache) {
  const ResponsePlan plan = handle(request(Method::kGet, "/small.txt"));
  EXPECT_EQ(plan.status, 200);
  EXPECT_TRUE(plan.keep_alive);
  EXPECT_EQ(plan.head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_TRUE(has_field(plan, "Date: " + date_)) << plan.head;
  EXPECT_TRUE(has_field(plan, "Content-Length: 12")) << plan.head;
  EXPECT_EQ(plan.inline_body(), "hello, world");
  EXPECT_TRUE(plan.pieces.empty());
  EXPECT_TRUE(plan.file) << "the entry keeps the borrowed bytes alive";
  EXPECT_EQ(metrics_.file_cache_misses() + metrics_.file_cache_hits(), 1u);
}

// Issue 12: a file the cache does not keep (here: no room at all) has no preformatted fields;
// its head is formatted whole and must be the same, byte for byte.
TEST_F(RequestHandlerTest, AFileTheCacheDoesNotKeepGetsTheSameHead) {
  Config uncached;
  uncached.status_path = "/.cork/status";
  uncached.file_cache_entries = 0;
  const auto no_cache = testing::settings_for(root_, uncached);
  for (const char* path : {"/small.txt", "/style.css", "/big.bin"}) {
    for (const Fields& coding : {Fields{}, Fields{{"Accept-Encoding", "gzip"}}}) {
      const RequestHead head = request(Method::kGet, path, coding);
      const ResponsePlan kept = handle(head);
      const ResponsePlan once = handler_.handle(head, *no_cache, facts());
      ASSERT_FALSE(kept.file->identity.fields_200.empty());
      ASSERT_TRUE(once.file->identity.fields_200.empty());
      EXPECT_EQ(once.head, kept.head) << path << " " << coding.size();
      EXPECT_EQ(once.inline_body(), kept.inline_body());
    }
  }
}

TEST_F(RequestHandlerTest, LargeFileIsOneSendfilePiece) {
  const ResponsePlan plan = handle(request(Method::kGet, "/big.bin"));
  EXPECT_EQ(plan.status, 200);
  EXPECT_TRUE(plan.inline_body().empty());
  ASSERT_EQ(plan.pieces.size(), 1u);
  EXPECT_EQ(plan.pieces[0].offset, 0);
  EXPECT_EQ(plan.pieces[0].length, 100u * 1024);
  EXPECT_GE(plan.file_fd, 0);
  EXPECT_EQ(plan.body_length(), 100u * 1024);
}

TEST_F(RequestHandlerTest, HeadGetsTheHeadOnly) {
  const ResponsePlan plan = handle(request(Method::kHead, "/big.bin"));
  EXPECT_EQ(plan.status, 200);
  EXPECT_TRUE(has_field(plan, "Content-Length: 102400"));
  EXPECT_EQ(plan.body_length(), 0u);
  EXPECT_FALSE(plan.file) << "nothing to send: no descriptor held";
}

TEST_F(RequestHandlerTest, MultipartRangeBecomesPiecesWithPartHeads) {
  const ResponsePlan plan =
      handle(request(Method::kGet, "/big.bin", {{"Range", "bytes=0-9,100-109"}}));
  EXPECT_EQ(plan.status, 206);
  ASSERT_EQ(plan.pieces.size(), 3u) << "two parts and the closing delimiter";
  EXPECT_EQ(plan.pieces[1].offset, 100);
  EXPECT_EQ(plan.pieces[2].length, 0u);
  EXPECT_NE(plan.head.find("multipart/byteranges; boundary="), std::string::npos);
}

TEST_F(RequestHandlerTest, PrecompressedSiblingAndVary) {
  const ResponsePlan gz =
      handle(request(Method::kGet, "/style.css", {{"Accept-Encoding", "gzip"}}));
  EXPECT_TRUE(has_field(gz, "Content-Encoding: gzip")) << gz.head;
  EXPECT_TRUE(has_field(gz, "Vary: Accept-Encoding"));
  EXPECT_EQ(gz.inline_body(), "gz-bytes");
  const ResponsePlan plain = handle(request(Method::kGet, "/style.css"));
  EXPECT_TRUE(has_field(plain, "Vary: Accept-Encoding"));
  EXPECT_EQ(plain.inline_body(), "body{}");
}

TEST_F(RequestHandlerTest, NotModifiedHasNoBodyAndNoLength) {
  const ResponsePlan first = handle(request(Method::kGet, "/small.txt"));
  const auto at = first.head.find("ETag: ");
  ASSERT_NE(at, std::string::npos);
  const std::string etag = first.head.substr(at + 6, first.head.find("\r\n", at) - at - 6);
  const ResponsePlan plan = handle(request(Method::kGet, "/small.txt", {{"If-None-Match", etag}}));
  EXPECT_EQ(plan.status, 304);
  EXPECT_EQ(plan.body_length(), 0u);
  EXPECT_EQ(plan.head.find("Content-Length"), std::string::npos);
}

// RFC 9110 8.8.2.1: Last-Modified is never later than Date.
TEST_F(RequestHandlerTest, FutureModificationTimeIsSentAsTheDate) {
  const std::time_t future = clock_.wall_seconds() + 86400;
  const timespec times[2] = {{future, 0}, {future, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root_.path() / "small.txt").c_str(), times, 0), 0);
  RequestFacts f = facts();
  f.date = http_date_at(clock_.wall_seconds());
  const std::string date(f.date);
  for (Method method : {Method::kGet, Method::kHead}) {
    const ResponsePlan plan = handler_.handle(request(method, "/small.txt"), *settings_, f);
    EXPECT_EQ(plan.status, 200);
    EXPECT_TRUE(has_field(plan, "Last-Modified: " + date)) << plan.head;
    EXPECT_TRUE(has_field(plan, "Content-Length: 12")) << plan.head;
    EXPECT_TRUE(has_field(plan, "Content-Type: text/plain; charset=utf-8")) << plan.head;
    EXPECT_TRUE(has_field(plan, "Accept-Ranges: bytes")) << plan.head;
    EXPECT_NE(plan.head.find("ETag: \""), std::string::npos);
  }
  // A file modified in the past keeps its own time.
  const timespec past[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root_.path() / "index.html").c_str(), past, 0), 0);
  EXPECT_TRUE(has_field(handler_.handle(request(Method::kGet, "/index.html"), *settings_, f),
                        "Last-Modified: Sun, 09 Sep 2001 01:46:40 GMT"));
}

TEST_F(RequestHandlerTest, MissingFileIs404WithPageAndKeepsTheConnection) {
  const ResponsePlan plan = handle(request(Method::kGet, "/nope"));
  EXPECT_EQ(plan.status, 404);
  EXPECT_TRUE(plan.keep_alive);
  EXPECT_NE(plan.inline_body().find("404"), std::string::npos);
  EXPECT_TRUE(has_field(plan, "Content-Type: text/html; charset=utf-8"));
  EXPECT_EQ(handle(request(Method::kHead, "/nope")).body_length(), 0u);
}

TEST_F(RequestHandlerTest, DirectoryWithoutSlashRedirects) {
  const ResponsePlan plan = handle(request(Method::kGet, "/dir?x=1"));
  EXPECT_EQ(plan.status, 301);
  EXPECT_TRUE(has_field(plan, "Location: /dir/?x=1")) << plan.head;
}

TEST_F(RequestHandlerTest, BadTargetIs400AndCloses) {
  const ResponsePlan plan = handle(request(Method::kGet, "nonsense"));
  EXPECT_EQ(plan.status, 400);
  EXPECT_FALSE(plan.keep_alive);
  EXPECT_TRUE(has_field(plan, "Connection: close"));
}

TEST_F(RequestHandlerTest, OtherMethodIs405WithAllow) {
  const ResponsePlan plan = handle(request(Method::kOtherKnown, "/small.txt"));
  EXPECT_EQ(plan.status, 405);
  EXPECT_TRUE(has_field(plan, "Allow: GET, HEAD"));
  EXPECT_TRUE(plan.keep_alive);
}

TEST_F(RequestHandlerTest, UnknownExpectationIs417AndCloses) {
  const ResponsePlan plan = handle(request(Method::kGet, "/small.txt", {{"Expect", "magic"}}));
  EXPECT_EQ(plan.status, 417);
  EXPECT_FALSE(plan.keep_alive);
}

TEST_F(RequestHandlerTest, ContinueOnlyForABodyThatWillBeRead) {
  const Fields expect = {{"Expect", "100-continue"}};
  const ResponsePlan fits = handle(request(Method::kGet, "/small.txt", expect), RequestBody::kFits);
  EXPECT_TRUE(fits.expect_continue);
  EXPECT_EQ(fits.request_body, ResponsePlan::Body::kDiscard);
  EXPECT_TRUE(fits.keep_alive);
  EXPECT_FALSE(handle(request(Method::kGet, "/small.txt", expect)).expect_continue);
  // A refusal does not invite the body, and closes instead of reading it.
  const ResponsePlan refused = handle(request(Method::kGet, "/nope", expect), RequestBody::kFits);
  EXPECT_FALSE(refused.expect_continue);
  EXPECT_FALSE(refused.keep_alive);
  EXPECT_EQ(refused.request_body, ResponsePlan::Body::kUnread);
  // Nor does a body over max_discard_body, or a chunked one (its size is not known to fit):
  // the answer comes at once and closes.
  for (const RequestBody body : {RequestBody::kTooLarge, RequestBody::kChunked}) {
    const ResponsePlan plan = handle(request(Method::kGet, "/small.txt", expect), body);
    EXPECT_EQ(plan.status, 200);
    EXPECT_FALSE(plan.expect_continue);
    EXPECT_FALSE(plan.keep_alive);
    EXPECT_TRUE(has_field(plan, "Connection: close"));
    EXPECT_EQ(plan.request_body, ResponsePlan::Body::kUnread);
  }
  // HTTP/1.0 expectations are ignored (RFC 9110 10.1.1).
  EXPECT_FALSE(
      handle(request(Method::kGet, "/small.txt", expect, 0), RequestBody::kFits).expect_continue);
}

// Which bodies are read before the answer (server/connection.cc, "Request bodies").
TEST_F(RequestHandlerTest, BodiesAreDiscardedWhenSmallAndOtherwiseLeftUnreadWithAClose) {
  using Body = ResponsePlan::Body;
  EXPECT_EQ(handle(request(Method::kGet, "/small.txt")).request_body, Body::kNone);
  for (const RequestBody body : {RequestBody::kFits, RequestBody::kChunked}) {
    const ResponsePlan plan = handle(request(Method::kGet, "/small.txt"), body);
    EXPECT_EQ(plan.request_body, Body::kDiscard);
    EXPECT_TRUE(plan.keep_alive);
    const ResponsePlan missing = handle(request(Method::kGet, "/nope"), body);
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.request_body, Body::kDiscard) << "a 404 keeps the connection";
    EXPECT_TRUE(missing.keep_alive);
  }
  const ResponsePlan large = handle(request(Method::kGet, "/small.txt"), RequestBody::kTooLarge);
  EXPECT_EQ(large.status, 200);
  EXPECT_EQ(large.request_body, Body::kUnread);
  EXPECT_TRUE(has_field(large, "Connection: close"));
  // A refused method's body is never read, however small; without one it keeps the connection.
  const ResponsePlan post = handle(request(Method::kOtherKnown, "/small.txt"), RequestBody::kFits);
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.request_body, Body::kUnread);
  EXPECT_TRUE(has_field(post, "Connection: close"));
  EXPECT_TRUE(handle(request(Method::kOtherKnown, "/small.txt")).keep_alive);
  // A refusal that closes anyway does not read it either.
  EXPECT_EQ(handle(request(Method::kGet, "nonsense"), RequestBody::kFits).request_body,
            Body::kUnread);
}

TEST_F(RequestHandlerTest, BodyTimeoutIs408AndCloses) {
  const ResponsePlan plan =
      handler_.refuse_timed_out(request(Method::kGet, "/small.txt"), facts(RequestBody::kFits));
  EXPECT_EQ(plan.status, 408);
  EXPECT_FALSE(plan.keep_alive);
  EXPECT_TRUE(has_field(plan, "Connection: close"));
  EXPECT_GT(plan.body_length(), 0u);
  EXPECT_EQ(handler_.refuse_timed_out(request(Method::kHead, "/small.txt"), facts()).body_length(),
            0u);
}

TEST_F(RequestHandlerTest, KeepAliveFollowsTheRequestAndTheServer) {
  const ResponsePlan v10 =
      handle(request(Method::kGet, "/small.txt", {{"Connection", "keep-alive"}}, 0));
  EXPECT_FALSE(v10.keep_alive) << "the parser decides keep_alive; an HTTP/1.0 head says false";
  RequestHead confirmed = request(Method::kGet, "/small.txt", {}, 0);
  confirmed.keep_alive = true;
  EXPECT_TRUE(has_field(handle(confirmed), "Connection: keep-alive"));
  RequestFacts draining = facts();
  draining.keep_alive_allowed = false;
  const ResponsePlan plan =
      handler_.handle(request(Method::kGet, "/small.txt"), *settings_, draining);
  EXPECT_FALSE(plan.keep_alive);
  EXPECT_TRUE(has_field(plan, "Connection: close"));
}

TEST_F(RequestHandlerTest, StatusPageForLoopbackOnly) {
  const ResponsePlan plan = handle(request(Method::kGet, "/.cork/status"));
  EXPECT_EQ(plan.status, 200);
  EXPECT_NE(plan.inline_body().find("cork_queue_capacity 64"), std::string::npos)
      << plan.inline_body();
  EXPECT_TRUE(has_field(plan, "Cache-Control: no-store"));
  sockaddr_storage remote = testing::loopback_peer();
  reinterpret_cast<sockaddr_in&>(remote).sin_addr.s_addr = htonl(0x0a000001);  // 10.0.0.1
  RequestFacts from_remote = facts();
  from_remote.peer = &remote;
  EXPECT_EQ(handler_.handle(request(Method::kGet, "/.cork/status"), *settings_, from_remote).status,
            404);
}

TEST_F(RequestHandlerTest, MalformedRequestAndOverloadClose) {
  const ResponsePlan bad = handler_.refuse_malformed(431, request(Method::kHead, "/"), facts());
  EXPECT_EQ(bad.status, 431);
  EXPECT_FALSE(bad.keep_alive);
  EXPECT_FALSE(bad.inline_body().empty())
      << "a request that failed to parse has no method to trust";
  const ResponsePlan busy = handler_.refuse_overloaded(date_);
  EXPECT_EQ(busy.status, 503);
  EXPECT_TRUE(has_field(busy, "Connection: close"));
  EXPECT_TRUE(has_field(busy, "Date: " + date_));
  EXPECT_TRUE(has_field(busy, "Retry-After: 1"));
  EXPECT_NE(busy.inline_body().find("503"), std::string::npos);
}

}  // namespace
}  // namespace cork
