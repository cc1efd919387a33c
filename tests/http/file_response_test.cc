// The file response decision: coding choice, preconditions against the selected
// representation, ranges and multipart layout, HEAD, and their combinations (RFC 9110 12.5.3,
// 13.2.2, 14.2, 15.4.5, 15.5.17), without a socket or a file system.
#include "http/file_response.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "http/http_date.h"

namespace cork {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr std::time_t kModified = 1700000000;
constexpr std::time_t kNow = kModified + 3600;
const std::string kTag = "\"id-tag\"";
const std::string kBrTag = "\"br-tag\"";
const std::string kGzTag = "\"gz-tag\"";

RequestHead request(Method method, const Fields& fields) {
  RequestHead h;
  h.method = method;
  h.method_name = method == Method::kHead ? "HEAD" : "GET";
  h.target = "/f";
  for (const auto& [name, value] : fields) {
    h.begin_field();
    h.append_name(name);
    h.append_value(value);
  }
  return h;
}

FileFacts plain_file(std::uint64_t size = 1000) {
  FileFacts f;
  f.identity = {true, size, kModified, kTag};
  f.content_type = "text/plain";
  return f;
}

FileFacts file_with_siblings() {
  FileFacts f = plain_file(1000);
  f.br = {true, 300, kModified, kBrTag};
  f.gzip = {true, 400, kModified, kGzTag};
  return f;
}

FileDecision decide(Method method, const Fields& fields, const FileFacts& file = plain_file(),
                    std::size_t max_ranges = 16) {
  FileResponseOptions options;
  options.max_ranges = max_ranges;
  options.now = kNow;
  options.boundary_seed = 42;
  return decide_file_response(request(method, fields), file, options);
}

TEST(FileResponse, PlainGetIs200WithBody) {
  const FileDecision d = decide(Method::kGet, {});
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.coding, Coding::kIdentity);
  EXPECT_EQ(d.content_length, 1000u);
  EXPECT_TRUE(d.send_body);
  EXPECT_TRUE(d.vary.empty()) << "no sibling, nothing to vary on";
  EXPECT_TRUE(d.content_range.empty());
}

TEST(FileResponse, HeadIs200WithLengthAndNoBody) {
  const FileDecision d = decide(Method::kHead, {});
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.content_length, 1000u);
  EXPECT_FALSE(d.send_body);
}

TEST(FileResponse, EmptyFileSendsNoBody) {
  const FileDecision d = decide(Method::kGet, {}, plain_file(0));
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.content_length, 0u);
  EXPECT_FALSE(d.send_body);
}

TEST(FileResponse, CodingPrefersBrThenGzip) {
  const FileFacts f = file_with_siblings();
  EXPECT_EQ(decide(Method::kGet, {{"Accept-Encoding", "gzip, br"}}, f).coding, Coding::kBrotli);
  EXPECT_EQ(decide(Method::kGet, {{"Accept-Encoding", "gzip"}}, f).coding, Coding::kGzip);
  EXPECT_EQ(decide(Method::kGet, {{"Accept-Encoding", "br;q=0, gzip"}}, f).coding, Coding::kGzip);
  EXPECT_EQ(decide(Method::kGet, {{"Accept-Encoding", "identity"}}, f).coding, Coding::kIdentity);
  EXPECT_EQ(decide(Method::kGet, {}, f).coding, Coding::kIdentity) << "absent field: identity";
  EXPECT_EQ(decide(Method::kGet, {{"Accept-Encoding", ""}}, f).coding, Coding::kIdentity);
  // Split over two fields: one list (RFC 9110 5.3).
  EXPECT_EQ(
      decide(Method::kGet, {{"Accept-Encoding", "deflate"}, {"Accept-Encoding", "br"}}, f).coding,
      Coding::kBrotli);
  EXPECT_EQ(coding_name(Coding::kBrotli), "br");
  EXPECT_EQ(coding_name(Coding::kGzip), "gzip");
  EXPECT_EQ(coding_name(Coding::kIdentity), "");
}

// RFC 9110 12.5.3: the highest weight wins; at equal weight br > zstd > gzip; identity only when
// the client weighs it above every coding it could get.
TEST(FileResponse, CodingFollowsTheWeights) {
  FileFacts f = file_with_siblings();
  f.zstd = {true, 350, kModified, "\"zst-tag\""};
  auto coding = [&](const std::string& accept) {
    return decide(Method::kGet, {{"Accept-Encoding", accept}}, f).coding;
  };
  EXPECT_EQ(coding("gzip, deflate, br, zstd"), Coding::kBrotli) << "ties: br first";
  EXPECT_EQ(coding("gzip, zstd"), Coding::kZstd) << "ties: zstd before gzip";
  EXPECT_EQ(coding("br;q=0.5, zstd;q=0.8, gzip;q=0.7"), Coding::kZstd);
  EXPECT_EQ(coding("br;q=0.5, gzip"), Coding::kGzip);
  EXPECT_EQ(coding("*"), Coding::kBrotli);
  EXPECT_EQ(coding("*;q=0.5, gzip"), Coding::kGzip) << "a listed coding above the star";
  EXPECT_EQ(coding("gzip;q=0.5, identity"), Coding::kIdentity) << "identity weighed above";
  EXPECT_EQ(coding("gzip;q=0.5, identity;q=0.5"), Coding::kGzip) << "a tie goes to the coding";
  EXPECT_EQ(coding("gzip;q=0.001"), Coding::kGzip) << "unlisted identity weighs least";
  EXPECT_EQ(coding("identity;q=0, gzip;q=0.1"), Coding::kGzip);
  EXPECT_EQ(coding("*;q=0"), Coding::kIdentity) << "nothing acceptable: identity all the same";
  EXPECT_EQ(coding("deflate, compress"), Coding::kIdentity);
  EXPECT_EQ(coding_name(Coding::kZstd), "zstd");
  EXPECT_EQ(decide(Method::kGet, {{"Accept-Encoding", "zstd"}}, f).content_length, 350u);
}

TEST(FileResponse, ANegotiableFileVariesEvenWithoutACodedRepresentation) {
  FileFacts f = plain_file();
  f.negotiable = true;
  const FileDecision d = decide(Method::kGet, {{"Accept-Encoding", "br"}}, f);
  EXPECT_EQ(d.coding, Coding::kIdentity);
  EXPECT_EQ(d.vary, "Accept-Encoding");
  f.identity.etag = kTag;
  const FileDecision not_modified =
      decide(Method::kGet, {{"Accept-Encoding", "br"}, {"If-None-Match", kTag}}, f);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.vary, "Accept-Encoding") << "a 304 varies like its 200";
}

TEST(FileResponse, PreferredCodingAmongThoseThatCouldBeMade) {
  auto all = [](Coding) { return true; };
  auto no_br = [](Coding c) { return c != Coding::kBrotli; };
  EXPECT_EQ(preferred_coding(coding_weights("gzip, deflate, br, zstd"), all), Coding::kBrotli);
  EXPECT_EQ(preferred_coding(coding_weights("gzip, deflate, br, zstd"), no_br), Coding::kZstd);
  EXPECT_EQ(preferred_coding(coding_weights(""), all), Coding::kIdentity);
  EXPECT_EQ(preferred_coding(coding_weights("identity"), all), Coding::kIdentity);
  EXPECT_EQ(preferred_coding(coding_weights("br;q=0"), no_br), Coding::kIdentity);
}

TEST(FileResponse, AbsentSiblingIsNotChosen) {
  FileFacts f = plain_file();
  f.gzip = {true, 400, kModified, kGzTag};
  const FileDecision d = decide(Method::kGet, {{"Accept-Encoding", "br"}}, f);
  EXPECT_EQ(d.coding, Coding::kIdentity);
  EXPECT_EQ(d.vary, "Accept-Encoding") << "Vary whichever representation is sent";
}

TEST(FileResponse, CompressedRepresentationHasItsOwnLengthAndVary) {
  const FileDecision d = decide(Method::kGet, {{"Accept-Encoding", "br"}}, file_with_siblings());
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.content_length, 300u);
  EXPECT_EQ(d.vary, "Accept-Encoding");
}

TEST(FileResponse, IfNoneMatchComparesTheSelectedRepresentation) {
  const FileFacts f = file_with_siblings();
  // The br tag matches only when br is selected.
  EXPECT_EQ(decide(Method::kGet, {{"Accept-Encoding", "br"}, {"If-None-Match", kBrTag}}, f).status,
            304);
  EXPECT_EQ(decide(Method::kGet, {{"If-None-Match", kBrTag}}, f).status, 200);
  EXPECT_EQ(decide(Method::kGet, {{"If-None-Match", kTag}}, f).status, 304);
  const FileDecision nm =
      decide(Method::kGet, {{"Accept-Encoding", "gzip"}, {"If-None-Match", kGzTag}}, f);
  EXPECT_EQ(nm.status, 304);
  EXPECT_EQ(nm.vary, "Accept-Encoding") << "RFC 9110 15.4.5: a 304 carries Vary";
  EXPECT_FALSE(nm.send_body);
}

TEST(FileResponse, FailedIfMatchIs412BeforeRange) {
  const FileDecision d = decide(Method::kGet, {{"If-Match", "\"other\""}, {"Range", "bytes=0-9"}});
  EXPECT_EQ(d.status, 412);
  EXPECT_FALSE(d.send_body);
  EXPECT_TRUE(d.ranges.empty());
}

TEST(FileResponse, NotModifiedWinsOverRange) {
  const FileDecision d = decide(Method::kGet, {{"If-None-Match", kTag}, {"Range", "bytes=0-9"}});
  EXPECT_EQ(d.status, 304);
  EXPECT_TRUE(d.content_range.empty());
}

TEST(FileResponse, IfModifiedSinceDates) {
  EXPECT_EQ(decide(Method::kGet, {{"If-Modified-Since", format_http_date(kModified)}}).status, 304);
  EXPECT_EQ(decide(Method::kGet, {{"If-Modified-Since", format_http_date(kModified - 1)}}).status,
            200);
  EXPECT_EQ(
      decide(Method::kHead, {{"If-Unmodified-Since", format_http_date(kModified - 1)}}).status,
      412);
}

TEST(FileResponse, SingleRangeIs206WithContentRange) {
  const FileDecision d = decide(Method::kGet, {{"Range", "bytes=10-19"}});
  EXPECT_EQ(d.status, 206);
  EXPECT_EQ(d.content_range, "bytes 10-19/1000");
  EXPECT_EQ(d.content_length, 10u);
  ASSERT_EQ(d.ranges.size(), 1u);
  EXPECT_EQ(d.ranges[0], (ByteRange{10, 19}));
  EXPECT_TRUE(d.send_body);
  EXPECT_FALSE(d.multipart_body());
}

TEST(FileResponse, HeadWithRangeHasTheHeadOfTheGet) {
  const FileDecision d = decide(Method::kHead, {{"Range", "bytes=-100"}});
  EXPECT_EQ(d.status, 206);
  EXPECT_EQ(d.content_range, "bytes 900-999/1000");
  EXPECT_EQ(d.content_length, 100u);
  EXPECT_FALSE(d.send_body);
}

TEST(FileResponse, RangeAppliesToTheCompressedRepresentation) {
  const FileDecision d = decide(Method::kGet, {{"Accept-Encoding", "gzip"}, {"Range", "bytes=-50"}},
                                file_with_siblings());
  EXPECT_EQ(d.status, 206);
  EXPECT_EQ(d.coding, Coding::kGzip);
  EXPECT_EQ(d.content_range, "bytes 350-399/400");
  EXPECT_EQ(d.vary, "Accept-Encoding") << "a 206 carries Vary too";
}

TEST(FileResponse, UnsatisfiableRangeIs416WithCurrentLength) {
  const FileDecision d = decide(Method::kGet, {{"Range", "bytes=5000-"}});
  EXPECT_EQ(d.status, 416);
  EXPECT_EQ(d.content_range, "bytes */1000");
  EXPECT_FALSE(d.send_body);
}

TEST(FileResponse, SeveralRangesAreMultipart) {
  const FileDecision d = decide(Method::kGet, {{"Range", "bytes=0-9, 100-109"}});
  EXPECT_EQ(d.status, 206);
  EXPECT_TRUE(d.multipart_body());
  ASSERT_EQ(d.multipart.parts.size(), 2u);
  EXPECT_EQ(d.multipart_type, "multipart/byteranges; boundary=" + make_boundary(42));
  EXPECT_EQ(d.content_length, d.multipart.content_length);
  EXPECT_NE(d.multipart.parts[0].head.find("Content-Type: text/plain"), std::string::npos);
  EXPECT_NE(d.multipart.parts[1].head.find("Content-Range: bytes 100-109/1000"), std::string::npos);
  EXPECT_TRUE(d.content_range.empty()) << "a multipart 206 has no Content-Range of its own";
  EXPECT_TRUE(d.send_body);
}

TEST(FileResponse, TooManyRangesServeTheWholeFile) {
  const FileDecision d = decide(Method::kGet, {{"Range", "bytes=0-0,2-2,4-4"}}, plain_file(), 2);
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.content_length, 1000u);
}

TEST(FileResponse, TwoRangeFieldsAreIgnored) {
  const FileDecision d = decide(Method::kGet, {{"Range", "bytes=0-9"}, {"Range", "bytes=0-9"}});
  EXPECT_EQ(d.status, 200);
}

TEST(FileResponse, IfRangeWithTheSelectedTagHonoursTheRange) {
  const FileFacts f = file_with_siblings();
  EXPECT_EQ(decide(Method::kGet, {{"If-Range", kTag}, {"Range", "bytes=0-9"}}, f).status, 206);
  // br selected: the identity tag no longer names what is sent.
  EXPECT_EQ(decide(Method::kGet,
                   {{"Accept-Encoding", "br"}, {"If-Range", kTag}, {"Range", "bytes=0-9"}}, f)
                .status,
            200);
  EXPECT_EQ(decide(Method::kGet,
                   {{"Accept-Encoding", "br"}, {"If-Range", kBrTag}, {"Range", "bytes=0-9"}}, f)
                .status,
            206);
}

TEST(FileResponse, IfRangeDateMustBeStrong) {
  const std::string modified = format_http_date(kModified);
  EXPECT_EQ(decide(Method::kGet, {{"If-Range", modified}, {"Range", "bytes=0-9"}}).status, 206);
  // Modified within the second before Date: not a strong validator (RFC 9110 8.8.2.2).
  FileFacts fresh = plain_file();
  fresh.identity.last_modified = kNow;
  EXPECT_EQ(
      decide(Method::kGet, {{"If-Range", format_http_date(kNow)}, {"Range", "bytes=0-9"}}, fresh)
          .status,
      200);
}

TEST(FileResponse, ConditionalRangeEncodingAndHeadTogether) {
  // HEAD + gzip + If-None-Match that does not match + a multipart range.
  const FileDecision d =
      decide(Method::kHead,
             {{"Accept-Encoding", "gzip"}, {"If-None-Match", kTag}, {"Range", "bytes=0-0,10-10"}},
             file_with_siblings());
  EXPECT_EQ(d.status, 206);
  EXPECT_EQ(d.coding, Coding::kGzip);
  EXPECT_TRUE(d.multipart_body());
  EXPECT_FALSE(d.send_body);
  EXPECT_EQ(d.multipart.parts.size(), 2u);
  EXPECT_NE(d.multipart.parts[1].head.find("Content-Range: bytes 10-10/400"), std::string::npos);
  EXPECT_EQ(d.vary, "Accept-Encoding");
}

}  // namespace
}  // namespace cork
