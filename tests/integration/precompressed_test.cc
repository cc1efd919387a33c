// Integration tests: precompressed siblings (file.br, file.gz) chosen by Accept-Encoding, with
// their own ETag, the original Content-Type, Vary on every response of such a file, ranges over
// the served representation, and curl --compressed decoding a real gzip file.
#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "integration/command_support.h"
#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

const std::string kText = "precompressed text, precompressed text, precompressed text\n";
constexpr const char* kFakeBr = "BROTLI-BYTES";  // only its identity matters to these tests

class PrecompressedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto plain = server_.put("page.html", kText);
    set_mtime(plain, 1'000'000'000);
    // A real gzip file made by gzip(1), so that curl --compressed can decode it.
    int exit_status = -1;
    run_command(
        "gzip -9 -c " + shell_quote(plain.string()) + " > " + shell_quote(plain.string() + ".gz"),
        exit_status);
    ASSERT_EQ(exit_status, 0) << "gzip failed";
    gz_ = read_file(plain.string() + ".gz");
    server_.put("page.html.br", kFakeBr);
    // A stale sibling: older than its original, never served.
    set_mtime(server_.put("stale.txt.gz", "STALE"), 1'000'000'000);
    server_.put("stale.txt", "fresh\n");
    server_.put("alone.txt", "no siblings\n");
    ASSERT_TRUE(server_.start());
  }

  HttpResponse get(const std::string& target, const std::string& fields) {
    HttpResponse response;
    EXPECT_TRUE(fetch(server_.port(), get_request(target, fields), response));
    return response;
  }

  std::string gz_;
  CorkProcess server_;
};

TEST_F(PrecompressedTest, BrotliIsPreferredWhenAccepted) {
  HttpResponse r = get("/page.html", "Accept-Encoding: gzip, br\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-encoding"), "br");
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.header("vary"), "Accept-Encoding");
  EXPECT_EQ(r.body, kFakeBr);
}

TEST_F(PrecompressedTest, GzipWhenBrotliIsRefusedOrNotOffered) {
  for (const char* accept : {"gzip", "br;q=0, gzip", "gzip;q=0.5, deflate"}) {
    SCOPED_TRACE(accept);
    HttpResponse r = get("/page.html", std::string("Accept-Encoding: ") + accept + "\r\n");
    EXPECT_EQ(r.header("content-encoding"), "gzip");
    EXPECT_EQ(first_difference(gz_, r.body), "");
  }
}

TEST_F(PrecompressedTest, IdentityStillVariesAndHasItsOwnETag) {
  HttpResponse identity = get("/page.html", "");
  EXPECT_FALSE(identity.header("content-encoding").has_value());
  EXPECT_EQ(identity.header("vary"), "Accept-Encoding");
  EXPECT_EQ(identity.body, kText);
  HttpResponse refused = get("/page.html", "Accept-Encoding: gzip;q=0, br;q=0\r\n");
  EXPECT_FALSE(refused.header("content-encoding").has_value());
  HttpResponse gz = get("/page.html", "Accept-Encoding: gzip\r\n");
  HttpResponse br = get("/page.html", "Accept-Encoding: br\r\n");
  ASSERT_TRUE(identity.header("etag") && gz.header("etag") && br.header("etag"));
  EXPECT_NE(*identity.header("etag"), *gz.header("etag"));
  EXPECT_NE(*identity.header("etag"), *br.header("etag"));
  EXPECT_NE(*gz.header("etag"), *br.header("etag"));
  // A conditional request validates the representation it would get.
  EXPECT_EQ(
      get("/page.html", "Accept-Encoding: gzip\r\nIf-None-Match: " + *gz.header("etag") + "\r\n")
          .status,
      304);
  EXPECT_EQ(get("/page.html", "If-None-Match: " + *gz.header("etag") + "\r\n").status, 200);
}

TEST_F(PrecompressedTest, RangesApplyToTheServedRepresentation) {
  HttpResponse r = get("/page.html", "Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  EXPECT_EQ(r.header("content-range"), "bytes 0-9/" + std::to_string(gz_.size()));
  EXPECT_EQ(r.body, gz_.substr(0, 10));
}

TEST_F(PrecompressedTest, StaleSiblingsAndFilesWithoutSiblings) {
  HttpResponse stale = get("/stale.txt", "Accept-Encoding: gzip\r\n");
  EXPECT_EQ(stale.body, "fresh\n");
  EXPECT_FALSE(stale.header("content-encoding").has_value());
  HttpResponse alone = get("/alone.txt", "Accept-Encoding: gzip, br\r\n");
  EXPECT_FALSE(alone.header("vary").has_value());
  EXPECT_FALSE(alone.header("content-encoding").has_value());
}

TEST_F(PrecompressedTest, CurlCompressedDecodesTheGzipSibling) {
  int exit_status = -1;
  auto body = run_command("curl -sS --compressed -H 'Accept-Encoding: gzip' http://127.0.0.1:" +
                              std::to_string(server_.port()) + "/page.html",
                          exit_status);
  ASSERT_EQ(exit_status, 0);
  EXPECT_EQ(body, kText);
}

// A .zst sidecar made by zstd(1) joins .br and .gz: served for zstd, with its own tag, chosen by
// weight, and decoded by the real decoder.
TEST(PrecompressedZstdTest, AZstdSidecarIsServedForZstd) {
  CorkProcess server;
  const auto plain = server.put("doc.txt", kText);
  set_mtime(plain, 1'000'000'000);
  int exit_status = -1;
  run_command("zstd -q -19 -c " + shell_quote(plain.string()) + " > " +
                  shell_quote(plain.string() + ".zst"),
              exit_status);
  ASSERT_EQ(exit_status, 0) << "zstd failed";
  const std::string zst = read_file(plain.string() + ".zst");
  server.put("doc.txt.gz", "GZ");
  ASSERT_TRUE(server.start());
  HttpResponse r;
  ASSERT_TRUE(fetch(server.port(), get_request("/doc.txt", "Accept-Encoding: gzip, zstd\r\n"), r));
  EXPECT_EQ(r.header("content-encoding"), "zstd") << "ties: zstd before gzip";
  EXPECT_EQ(r.header("vary"), "Accept-Encoding");
  EXPECT_EQ(r.body, zst);
  ASSERT_TRUE(r.header("etag"));
  EXPECT_NE(r.header("etag")->find("-zst\""), std::string::npos) << *r.header("etag");
  ASSERT_TRUE(
      fetch(server.port(), get_request("/doc.txt", "Accept-Encoding: gzip, zstd;q=0.5\r\n"), r));
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  auto decoded = run_command("curl -sS -H 'Accept-Encoding: zstd' http://127.0.0.1:" +
                                 std::to_string(server.port()) + "/doc.txt | zstd -d -c",
                             exit_status);
  ASSERT_EQ(exit_status, 0);
  EXPECT_EQ(decoded, kText);
}

TEST(PrecompressedOffTest, SiblingsAreIgnoredWhenOff) {
  CorkProcess server;
  server.put("page.html", kText);
  server.put("page.html.gz", "GZ");
  server.set("http", "precompressed", "off");
  ASSERT_TRUE(server.start());
  HttpResponse r;
  ASSERT_TRUE(fetch(server.port(), get_request("/page.html", "Accept-Encoding: gzip\r\n"), r));
  EXPECT_EQ(r.body, kText);
  EXPECT_FALSE(r.header("vary").has_value());
}

}  // namespace
}  // namespace cork::integration
