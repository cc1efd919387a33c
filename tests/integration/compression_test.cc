// Integration tests: compression on the fly. Every body is checked with a real decoder (the
// brotli and zstd command-line tools, Python's gzip module, curl --compressed); the first request
// is never kept waiting for a compression; edits are never served stale; a file grown past
// compress_max_size goes out uncompressed; identity and an absent Accept-Encoding get the file's
// bytes; ranges, HEAD and conditional requests apply to the representation that is selected.
#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "integration/command_support.h"
#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"
#include "integration/temp_dir_support.h"

namespace cork::integration {
namespace {

using std::chrono::steady_clock;

// JavaScript-like text of `size` bytes that compresses well, different per `seed`.
std::string script(std::size_t size, int seed) {
  std::string text;
  for (int i = 0; text.size() < size; ++i) {
    text += "export function f" + std::to_string(i * 7 + seed) + "(a, b) { return a * " +
            std::to_string(seed) + " + b; }\n";
  }
  text.resize(size);
  return text;
}

// Runs `decoder` on `encoded` (written to a file) and returns its output.
std::string decode_with(const std::filesystem::path& dir, const std::string& decoder,
                        const std::string& encoded) {
  const std::filesystem::path in = dir / "encoded.bin";
  write_file(in, encoded);
  int status = -1;
  const std::optional<std::string> out =
      run_command(decoder + " < " + shell_quote(in.string()), status);
  EXPECT_EQ(status, 0) << decoder;
  return out.value_or("");
}

class CompressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    js_ = script(100 * 1024, 3);
    server_.put("app.js", js_);
    server_.put("index.html", "<!doctype html><title>t</title>" + script(4000, 5));
    server_.put("tiny.css", "body{}");
    server_.put("photo.png", std::string(20000, 'p'));  // compressible bytes, but an image
  }
  void start() { ASSERT_TRUE(server_.start()); }

  HttpResponse get(const std::string& target, const std::string& fields = "") {
    HttpResponse response;
    EXPECT_TRUE(fetch(server_.port(), get_request(target, fields), response));
    return response;
  }
  // Asks until the response carries `coding` (the copy is made after the first request), at
  // most 10 s; every response on the way must be the identity body or that coding.
  HttpResponse get_coded(const std::string& target, const std::string& coding,
                         const std::string& extra = "") {
    const auto deadline = steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      HttpResponse r = get(target, "Accept-Encoding: " + coding + "\r\n" + extra);
      if (r.header("content-encoding") == coding || steady_clock::now() > deadline) return r;
      EXPECT_FALSE(r.header("content-encoding").has_value()) << *r.header("content-encoding");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::string js_;
  CorkProcess server_;
};

TEST_F(CompressionTest, EveryCodingDecodesWithItsRealDecoder) {
  start();
  const std::filesystem::path dir = server_.dir().path();
  const HttpResponse br = get_coded("/app.js", "br");
  ASSERT_EQ(br.header("content-encoding"), "br");
  EXPECT_LT(br.body.size(), js_.size() / 4);
  EXPECT_EQ(first_difference(js_, decode_with(dir, "brotli -d -c", br.body)), "");
  const HttpResponse zstd = get_coded("/app.js", "zstd");
  ASSERT_EQ(zstd.header("content-encoding"), "zstd");
  EXPECT_EQ(first_difference(js_, decode_with(dir, "zstd -d -c", zstd.body)), "");
  const HttpResponse gz = get_coded("/app.js", "gzip");
  ASSERT_EQ(gz.header("content-encoding"), "gzip");
  EXPECT_EQ(first_difference(js_, decode_with(dir,
                                              "python3 -c 'import gzip,sys; "
                                              "sys.stdout.buffer.write(gzip.decompress("
                                              "sys.stdin.buffer.read()))'",
                                              gz.body)),
            "");
  for (const HttpResponse* r : {&br, &zstd, &gz}) {
    EXPECT_EQ(r->header("vary"), "Accept-Encoding");
    EXPECT_EQ(r->header("content-type"), "text/javascript; charset=utf-8");
  }
  // Three codings, three byte sequences, three strong tags, none the identity's.
  const HttpResponse identity = get("/app.js");
  const std::set<std::string> tags = {*identity.header("etag"), *br.header("etag"),
                                      *zstd.header("etag"), *gz.header("etag")};
  EXPECT_EQ(tags.size(), 4u);

  // curl as a browser would ask (it sends the codings it can decode, and decodes).
  int status = -1;
  const std::string url = "http://127.0.0.1:" + std::to_string(server_.port()) + "/app.js";
  const std::optional<std::string> via_curl =
      run_command("curl -s --compressed " + shell_quote(url), status);
  ASSERT_EQ(status, 0);
  EXPECT_EQ(first_difference(js_, via_curl.value_or("")), "");
}

TEST_F(CompressionTest, TheFirstRequestIsAnsweredAtOnceWithTheFile) {
  start();
  // Nothing was compressed before it asked: it gets the file, and the answer says it varies.
  const HttpResponse first = get("/app.js", "Accept-Encoding: gzip, deflate, br, zstd\r\n");
  EXPECT_EQ(first.status, 200);
  EXPECT_FALSE(first.header("content-encoding").has_value());
  EXPECT_EQ(first.header("vary"), "Accept-Encoding");
  EXPECT_EQ(first_difference(js_, first.body), "");
  EXPECT_EQ(get_coded("/app.js", "br").header("content-encoding"), "br");
}

TEST_F(CompressionTest, IdentityAndAnAbsentFieldGetTheFileBytes) {
  start();
  ASSERT_EQ(get_coded("/app.js", "br").header("content-encoding"), "br");  // the copy exists
  for (const char* fields : {"", "Accept-Encoding: identity\r\n", "Accept-Encoding: \r\n",
                             "Accept-Encoding: br;q=0, gzip;q=0, zstd;q=0\r\n",
                             "Accept-Encoding: br;q=0.5, identity\r\n"}) {
    SCOPED_TRACE(fields);
    const HttpResponse r = get("/app.js", fields);
    EXPECT_FALSE(r.header("content-encoding").has_value());
    EXPECT_EQ(r.header("vary"), "Accept-Encoding");
    EXPECT_EQ(first_difference(js_, r.body), "");
  }
}

TEST_F(CompressionTest, AnEditIsNeverServedFromTheOldCopy) {
  start();
  const std::filesystem::path dir = server_.dir().path();
  ASSERT_EQ(get_coded("/app.js", "br").header("content-encoding"), "br");
  // Same name, new bytes (and a new size and modification time).
  const std::string edited = script(90 * 1024, 11);
  server_.put("app.js", edited);
  const auto deadline = steady_clock::now() + std::chrono::seconds(10);
  bool coded = false;
  while (!coded && steady_clock::now() < deadline) {
    const HttpResponse r = get("/app.js", "Accept-Encoding: br\r\n");
    coded = r.header("content-encoding") == "br";
    const std::string body = coded ? decode_with(dir, "brotli -d -c", r.body) : r.body;
    // Until the edit's event is handled, the old file may still be served whole (the open-file
    // cache's freshness); never the old copy of it, never a mix.
    if (body != js_) {
      ASSERT_EQ(first_difference(edited, body), "");
    } else {
      EXPECT_FALSE(coded) << "the old compressed copy was served after an edit";
    }
  }
  EXPECT_TRUE(coded) << "the edited file was never compressed";
}

TEST_F(CompressionTest, AFileGrownPastTheMaximumGoesOutUncompressed) {
  server_.set("http", "compress_max_size", "64K");
  start();
  server_.put("grows.js", script(32 * 1024, 2));
  ASSERT_EQ(get_coded("/grows.js", "gzip").header("content-encoding"), "gzip");
  const std::string large = script(100 * 1024, 4);
  server_.put("grows.js", large);
  const auto deadline = steady_clock::now() + std::chrono::seconds(5);
  HttpResponse r;
  do {
    r = get("/grows.js", "Accept-Encoding: gzip\r\n");
  } while (r.body.size() != large.size() && steady_clock::now() < deadline);
  EXPECT_FALSE(r.header("content-encoding").has_value());
  EXPECT_EQ(first_difference(large, r.body), "");
  EXPECT_FALSE(r.header("vary").has_value()) << "no longer negotiable";
}

TEST_F(CompressionTest, ARangeIsOfTheCompressedRepresentation) {
  start();
  const HttpResponse whole = get_coded("/app.js", "br");
  ASSERT_EQ(whole.header("content-encoding"), "br");
  const HttpResponse part = get("/app.js", "Accept-Encoding: br\r\nRange: bytes=10-99\r\n");
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.header("content-encoding"), "br");
  EXPECT_EQ(part.header("content-range"), "bytes 10-99/" + std::to_string(whole.body.size()));
  EXPECT_EQ(part.body, whole.body.substr(10, 90));
  const HttpResponse parts = get("/app.js", "Accept-Encoding: br\r\nRange: bytes=0-4,20-29\r\n");
  EXPECT_EQ(parts.status, 206);
  EXPECT_NE(parts.body.find(whole.body.substr(0, 5)), std::string::npos);
  EXPECT_NE(parts.body.find(whole.body.substr(20, 10)), std::string::npos);
  EXPECT_NE(parts.body.find("Content-Range: bytes 20-29/" + std::to_string(whole.body.size())),
            std::string::npos);
  const HttpResponse beyond =
      get("/app.js",
          "Accept-Encoding: br\r\nRange: bytes=" + std::to_string(whole.body.size()) + "-\r\n");
  EXPECT_EQ(beyond.status, 416);
}

// Several ranges of a large copy would be assembled per response: the whole copy goes instead
// (RFC 9110 14.2 lets a server ignore Range), shared by every response.
TEST_F(CompressionTest, SeveralRangesOfALargeCopyGetTheWholeCopy) {
  std::string hex(200 * 1024, '0');
  unsigned state = 1;
  for (char& c : hex) {
    state = state * 1103515245u + 12345u;
    c = "0123456789abcdef"[(state >> 16) % 16];
  }
  server_.put("data.json", hex);
  start();
  const HttpResponse whole = get_coded("/data.json", "gzip");
  ASSERT_EQ(whole.header("content-encoding"), "gzip");
  ASSERT_GT(whole.body.size(), 64u * 1024) << "the test needs a copy above the multipart limit";
  const HttpResponse parts =
      get("/data.json", "Accept-Encoding: gzip\r\nRange: bytes=0-9,100-199\r\n");
  EXPECT_EQ(parts.status, 200);
  EXPECT_EQ(parts.header("content-encoding"), "gzip");
  EXPECT_EQ(parts.body, whole.body);
  const HttpResponse one = get("/data.json", "Accept-Encoding: gzip\r\nRange: bytes=100-199\r\n");
  EXPECT_EQ(one.status, 206) << "one range is a view of the copy: still honoured";
  EXPECT_EQ(one.body, whole.body.substr(100, 100));
}

TEST_F(CompressionTest, HeadAndConditionalRequestsFollowTheSelectedRepresentation) {
  start();
  const HttpResponse br = get_coded("/app.js", "br");
  ASSERT_EQ(br.header("content-encoding"), "br");
  RawClient client;
  ASSERT_TRUE(client.connect(server_.port()));
  ASSERT_TRUE(client.send_all(head_request("/app.js", "Accept-Encoding: br\r\n")));
  HttpResponse head;
  ASSERT_TRUE(client.read_response(head, Method::kHead));
  for (const char* field : {"content-encoding", "content-length", "etag", "vary", "content-type"})
    EXPECT_EQ(head.header(field), br.header(field)) << field;
  EXPECT_TRUE(head.body.empty());
  const std::string tag = *br.header("etag");
  const HttpResponse not_modified =
      get("/app.js", "Accept-Encoding: br\r\nIf-None-Match: " + tag + "\r\n");
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.header("vary"), "Accept-Encoding");
  EXPECT_EQ(not_modified.header("etag"), tag);
  // Another coding is another representation: its tag does not match the br one.
  EXPECT_EQ(get("/app.js", "Accept-Encoding: gzip\r\nIf-None-Match: " + tag + "\r\n").status, 200);
}

TEST_F(CompressionTest, ImagesSmallFilesAndOffLeaveFilesAlone) {
  server_.set("http", "compress_codings", "gzip");
  start();
  for (const char* target : {"/photo.png", "/tiny.css"}) {
    SCOPED_TRACE(target);
    for (int i = 0; i < 3; ++i) {
      const HttpResponse r = get(target, "Accept-Encoding: gzip, br\r\n");
      EXPECT_FALSE(r.header("content-encoding").has_value());
      EXPECT_FALSE(r.header("vary").has_value());
    }
  }
  // Only the codings configured are made: br is asked for first, gzip is what it gets.
  EXPECT_EQ(get_coded("/index.html", "gzip", "").header("content-encoding"), "gzip");
  EXPECT_EQ(get("/index.html", "Accept-Encoding: br, gzip\r\n").header("content-encoding"), "gzip");
  EXPECT_FALSE(get("/index.html", "Accept-Encoding: br\r\n").header("content-encoding"));
}

TEST_F(CompressionTest, ASecondPassReplacesTheCopyWithAStrongerOne) {
  server_.set("http", "compress_second_pass", "on");
  start();
  const HttpResponse first = get_coded("/app.js", "br");
  ASSERT_EQ(first.header("content-encoding"), "br");
  const auto deadline = steady_clock::now() + std::chrono::seconds(20);
  HttpResponse r = first;
  while (r.header("etag")->find("-br.11.") == std::string::npos && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    r = get("/app.js", "Accept-Encoding: br\r\n");
    ASSERT_EQ(r.header("content-encoding"), "br");
  }
  ASSERT_NE(r.header("etag")->find("-br.11."), std::string::npos) << *r.header("etag");
  if (first.header("etag")->find("-br.9.") != std::string::npos) {  // not the second pass's already
    EXPECT_NE(r.header("etag"), first.header("etag"));
    EXPECT_LE(r.body.size(), first.body.size());
  }
  EXPECT_EQ(first_difference(js_, decode_with(server_.dir().path(), "brotli -d -c", r.body)), "");
}

TEST(CompressionOffTest, CompressOffSendsFilesAsTheyAre) {
  CorkProcess server;
  server.put("app.js", script(10000, 1));
  server.set("http", "compress", "off");
  ASSERT_TRUE(server.start());
  for (int i = 0; i < 20; ++i) {
    HttpResponse r;
    ASSERT_TRUE(fetch(server.port(), get_request("/app.js", "Accept-Encoding: br\r\n"), r));
    EXPECT_FALSE(r.header("content-encoding").has_value());
    EXPECT_FALSE(r.header("vary").has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace
}  // namespace cork::integration
