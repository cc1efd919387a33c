// Integration tests: validators and conditional requests (RFC 9110 8.8, 13) on the real binary,
// with raw requests and with curl as a user would send them (-z, If-None-Match).
#include <chrono>
#include <ctime>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "integration/command_support.h"
#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

// 2001-09-09T01:46:40Z.
constexpr std::time_t kMtime = 1'000'000'000;
constexpr const char* kMtimeText = "Sun, 09 Sep 2001 01:46:40 GMT";
constexpr const char* kBefore = "Sun, 09 Sep 2001 01:46:39 GMT";
constexpr const char* kAfter = "Sun, 09 Sep 2001 01:46:41 GMT";
constexpr const char* kBody = "conditional body\n";

class ConditionalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_mtime(server_.put("f.txt", kBody), kMtime);
    server_.set("http", "cache_control", "public, max-age=60");
    ASSERT_TRUE(server_.start());
    ASSERT_TRUE(fetch(server_.port(), get_request("/f.txt"), plain_));
    ASSERT_EQ(plain_.status, 200);
    ASSERT_TRUE(plain_.header("etag").has_value());
    etag_ = *plain_.header("etag");
  }

  HttpResponse get(const std::string& fields, Method method = Method::kGet) {
    HttpResponse response;
    const std::string request =
        method == Method::kGet ? get_request("/f.txt", fields) : head_request("/f.txt", fields);
    EXPECT_TRUE(fetch(server_.port(), request, response, method));
    return response;
  }

  std::string curl(const std::string& args) {
    int exit_status = -1;
    auto out = run_command("curl -sS -o /dev/null -w '%{http_code}' " + args +
                               " http://127.0.0.1:" + std::to_string(server_.port()) + "/f.txt",
                           exit_status);
    EXPECT_TRUE(out.has_value());
    EXPECT_EQ(exit_status, 0) << "curl failed";
    return out.value_or("");
  }

  CorkProcess server_;
  HttpResponse plain_;
  std::string etag_;
};

TEST_F(ConditionalTest, A200CarriesValidatorsAcceptRangesAndCacheControl) {
  EXPECT_EQ(plain_.header("last-modified"), kMtimeText);
  EXPECT_EQ(plain_.header("accept-ranges"), "bytes");
  EXPECT_EQ(plain_.header("cache-control"), "public, max-age=60");
  // A strong validator: quoted, no W/ prefix.
  ASSERT_GE(etag_.size(), 3u);
  EXPECT_EQ(etag_.front(), '"');
  EXPECT_EQ(etag_.back(), '"');
  HttpResponse head = get("", Method::kHead);
  EXPECT_EQ(head.header("etag"), etag_) << "GET and HEAD must carry the same ETag";
  EXPECT_EQ(head.header("content-length"), std::to_string(std::string(kBody).size()));
}

TEST_F(ConditionalTest, ETagIsStableAcrossRestartsAndChangesWithTheFile) {
  CorkProcess again;
  set_mtime(again.put("f.txt", kBody), kMtime);
  ASSERT_TRUE(again.start());
  HttpResponse response;
  ASSERT_TRUE(fetch(again.port(), get_request("/f.txt"), response));
  EXPECT_EQ(response.header("etag"), etag_);
  set_mtime(again.put("f.txt", "changed content\n"), kMtime + 5);
  ASSERT_TRUE(fetch(again.port(), get_request("/f.txt"), response));
  EXPECT_NE(response.header("etag"), etag_);
}

// Two same-size versions within one second must not share a strong tag (RFC 9110 8.8.1), or a
// cache revalidates changed content as unchanged and an If-Range resume splices versions.
TEST_F(ConditionalTest, SameSizeVersionsWithinOneSecondHaveDifferentETags) {
  const std::string other(std::string(kBody).size(), 'x');
  set_mtime(server_.put("f.txt", other), kMtime, 500'000'000);
  HttpResponse response;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  do {  // the open-file cache retires the old entry when its inotify event arrives
    ASSERT_TRUE(fetch(server_.port(), get_request("/f.txt"), response));
  } while (response.body != other && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(response.body, other);
  EXPECT_EQ(response.header("last-modified"), kMtimeText) << "the same second";
  EXPECT_NE(response.header("etag"), etag_);
  EXPECT_EQ(get("If-None-Match: " + etag_ + "\r\n").status, 200)
      << "the old version's tag must not validate the new bytes";
}

// RFC 9110 8.8.2.1: an mtime in the future (a clock skew, a build tool) is sent as the Date.
TEST_F(ConditionalTest, FutureModificationTimeIsCappedAtTheDate) {
  set_mtime(server_.put("future.txt", kBody), std::time(nullptr) + 86400);
  HttpResponse response;
  ASSERT_TRUE(fetch(server_.port(), get_request("/future.txt"), response));
  ASSERT_EQ(response.status, 200);
  ASSERT_TRUE(response.header("date").has_value());
  EXPECT_EQ(response.header("last-modified"), response.header("date"));
  EXPECT_EQ(response.body, kBody);
}

TEST_F(ConditionalTest, IfNoneMatchWithTheCurrentTagIs304WithoutBody) {
  RawClient client;
  ASSERT_TRUE(client.connect(server_.port()));
  ASSERT_TRUE(client.send_all(get_request("/f.txt", "If-None-Match: " + etag_ + "\r\n")));
  HttpResponse response;
  ASSERT_TRUE(client.read_response(response));
  EXPECT_EQ(response.status, 304);
  EXPECT_EQ(response.body, "");
  EXPECT_EQ(response.header("etag"), etag_);
  EXPECT_EQ(response.header("last-modified"), kMtimeText);
  EXPECT_EQ(response.header("cache-control"), "public, max-age=60");
  EXPECT_TRUE(response.header("date").has_value());
  // Keep-alive continues after a 304.
  ASSERT_TRUE(client.send_all(get_request("/f.txt")));
  ASSERT_TRUE(client.read_response(response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, kBody);
}

TEST_F(ConditionalTest, IfNoneMatchListsStarAndWeakComparison) {
  EXPECT_EQ(get("If-None-Match: \"nope\", " + etag_ + "\r\n").status, 304);
  EXPECT_EQ(get("If-None-Match: W/" + etag_ + "\r\n").status, 304);  // weak comparison
  EXPECT_EQ(get("If-None-Match: *\r\n").status, 304);
  EXPECT_EQ(get("If-None-Match: \"nope\"\r\n").status, 200);
  EXPECT_EQ(get("If-None-Match: " + etag_ + "\r\n", Method::kHead).status, 304);
}

TEST_F(ConditionalTest, IfModifiedSince) {
  EXPECT_EQ(get(std::string("If-Modified-Since: ") + kMtimeText + "\r\n").status, 304);
  EXPECT_EQ(get(std::string("If-Modified-Since: ") + kAfter + "\r\n").status, 304);
  EXPECT_EQ(get(std::string("If-Modified-Since: ") + kBefore + "\r\n").status, 200);
  EXPECT_EQ(get("If-Modified-Since: not a date\r\n").status, 200);  // ignored
  // If-None-Match takes precedence: a non-matching tag means 200 whatever the date says.
  EXPECT_EQ(
      get(std::string("If-None-Match: \"nope\"\r\nIf-Modified-Since: ") + kAfter + "\r\n").status,
      200);
}

TEST_F(ConditionalTest, IfMatchAndIfUnmodifiedSinceFailWith412) {
  EXPECT_EQ(get("If-Match: " + etag_ + "\r\n").status, 200);
  EXPECT_EQ(get("If-Match: *\r\n").status, 200);
  EXPECT_EQ(get("If-Match: \"other\"\r\n").status, 412);
  EXPECT_EQ(get("If-Match: W/" + etag_ + "\r\n").status, 412);  // strong comparison
  EXPECT_EQ(get(std::string("If-Unmodified-Since: ") + kBefore + "\r\n").status, 412);
  EXPECT_EQ(get(std::string("If-Unmodified-Since: ") + kMtimeText + "\r\n").status, 200);
  // If-Unmodified-Since is ignored when If-Match is present (RFC 9110 13.2.2 step 2).
  EXPECT_EQ(get("If-Match: " + etag_ + "\r\nIf-Unmodified-Since: " + kBefore + "\r\n").status, 200);
  // A failing If-Match wins over a matching If-None-Match (step 1 before step 3).
  EXPECT_EQ(get("If-Match: \"other\"\r\nIf-None-Match: " + etag_ + "\r\n").status, 412);
}

TEST_F(ConditionalTest, CurlTimeConditionAndIfNoneMatch) {
  // curl -z DATE sends If-Modified-Since; -z -DATE sends If-Unmodified-Since.
  EXPECT_EQ(curl("-z " + shell_quote(kMtimeText)), "304");
  EXPECT_EQ(curl("-z " + shell_quote(kBefore)), "200");
  EXPECT_EQ(curl("-z " + shell_quote(std::string("-") + kBefore)), "412");
  EXPECT_EQ(curl("-H " + shell_quote("If-None-Match: " + etag_)), "304");
}

TEST(CacheControlTest, AbsentByDefault) {
  CorkProcess server;
  server.put("f.txt", kBody);
  ASSERT_TRUE(server.start());
  HttpResponse response;
  ASSERT_TRUE(fetch(server.port(), get_request("/f.txt"), response));
  EXPECT_EQ(response.status, 200);
  EXPECT_FALSE(response.header("cache-control").has_value());
}

}  // namespace
}  // namespace cork::integration
