// http/compression: every coding's output decodes (with the libraries' own decoders) to the
// input, at every level of its range; media type matching; versions for the copies' keys.
#include "http/compression.h"

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader: reads the window size
#include <zstd.h>

#include <random>
#include <string>

namespace cork {
namespace {

std::string gunzip(const std::string& in) {
  z_stream s{};
  EXPECT_EQ(inflateInit2(&s, 15 + 16), Z_OK);  // gzip wrapper only
  std::string out(1 << 22, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.avail_in = static_cast<uInt>(in.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  const int status = inflate(&s, Z_FINISH);
  out.resize(s.total_out);
  inflateEnd(&s);
  EXPECT_EQ(status, Z_STREAM_END);
  return out;
}

std::string unbrotli(const std::string& in) {
  std::string out(1 << 22, '\0');
  std::size_t size = out.size();
  EXPECT_EQ(BrotliDecoderDecompress(in.size(), reinterpret_cast<const std::uint8_t*>(in.data()),
                                    &size, reinterpret_cast<std::uint8_t*>(out.data())),
            BROTLI_DECODER_RESULT_SUCCESS);
  out.resize(size);
  return out;
}

std::string unzstd(const std::string& in) {
  std::string out(1 << 22, '\0');
  const std::size_t size = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  EXPECT_FALSE(ZSTD_isError(size));
  out.resize(ZSTD_isError(size) ? 0 : size);
  return out;
}

std::string decode(Coding coding, const std::string& in) {
  switch (coding) {
    case Coding::kGzip:
      return gunzip(in);
    case Coding::kBrotli:
      return unbrotli(in);
    case Coding::kZstd:
      return unzstd(in);
    case Coding::kIdentity:
      break;
  }
  return in;
}

// Text that compresses, with some noise so that levels differ.
std::string sample_text(std::size_t size) {
  std::mt19937 random(7);
  std::string text;
  while (text.size() < size) {
    text += "function f" + std::to_string(random() % 1000) + "(a, b) { return a + b; }\n";
  }
  text.resize(size);
  return text;
}

TEST(Compression, EveryCodingAndLevelDecodesToTheInput) {
  const std::string input = sample_text(50'000);
  for (const Coding coding : {Coding::kGzip, Coding::kBrotli, Coding::kZstd}) {
    const LevelRange range = level_range(coding);
    ASSERT_LT(range.min, range.max);
    for (int level = range.min; level <= range.max; ++level) {
      if (coding == Coding::kZstd && level > 19) continue;  // --ultra levels: slow, same code
      const auto out = compress(coding, level, input);
      ASSERT_TRUE(out) << coding_name(coding) << " " << level;
      EXPECT_LT(out->size(), input.size() / 3) << coding_name(coding) << " " << level;
      EXPECT_EQ(decode(coding, *out), input) << coding_name(coding) << " " << level;
    }
  }
}

TEST(Compression, EmptyAndIncompressibleInputsRoundTrip) {
  std::string noise(10'000, '\0');
  std::mt19937 random(1);
  for (char& c : noise)
    c = static_cast<char>(random());
  for (const Coding coding : {Coding::kGzip, Coding::kBrotli, Coding::kZstd}) {
    for (const std::string& input : {std::string(), noise}) {
      const auto out = compress(coding, level_range(coding).min, input);
      ASSERT_TRUE(out);
      EXPECT_EQ(decode(coding, *out), input);
    }
  }
}

TEST(Compression, RefusesLevelsOutsideTheRangeAndIdentity) {
  EXPECT_FALSE(compress(Coding::kGzip, 0, "abc"));
  EXPECT_FALSE(compress(Coding::kGzip, 10, "abc"));
  EXPECT_FALSE(compress(Coding::kBrotli, 12, "abc"));
  EXPECT_FALSE(compress(Coding::kIdentity, 1, "abc"));
}

TEST(Compression, CodecVersionsNameTheLibrary) {
  EXPECT_EQ(codec_version(Coding::kGzip).rfind("zlib-", 0), 0u);
  EXPECT_EQ(codec_version(Coding::kBrotli).rfind("brotli-1.", 0), 0u)
      << codec_version(Coding::kBrotli);
  EXPECT_EQ(codec_version(Coding::kZstd).rfind("zstd-1.", 0), 0u);
}

TEST(Compression, TypeMatching) {
  const std::vector<std::string> types = {"text/*", "application/javascript", "image/svg+xml"};
  EXPECT_TRUE(type_matches("text/html; charset=utf-8", types));
  EXPECT_TRUE(type_matches("TEXT/CSS", types));
  EXPECT_TRUE(type_matches("application/javascript; charset=utf-8", types));
  EXPECT_TRUE(type_matches("image/svg+xml", types));
  EXPECT_FALSE(type_matches("image/png", types));
  EXPECT_FALSE(type_matches("application/javascriptx", types));
  EXPECT_FALSE(type_matches("textual/plain", types));
  EXPECT_FALSE(type_matches("", types));
  EXPECT_FALSE(type_matches("text/html", {}));
}

TEST(Compression, CodingNames) {
  EXPECT_EQ(parse_coding_name("BR"), Coding::kBrotli);
  EXPECT_EQ(parse_coding_name("zstd"), Coding::kZstd);
  EXPECT_EQ(parse_coding_name("gzip"), Coding::kGzip);
  EXPECT_FALSE(parse_coding_name("identity"));
  EXPECT_FALSE(parse_coding_name("deflate"));
}

// RFC 9659 3: a zstd content coding's window is at most 8 MiB (browsers refuse more); levels
// 20-22 would pick a larger one for inputs above 8 MiB.
TEST(Compression, ZstdWindowsStayWithinEightMiB) {
  std::string input;
  const std::string chunk = sample_text(4096);
  while (input.size() < (std::size_t{9} << 20))
    input += chunk;  // repetitive: compresses fast even at level 22
  const auto out = compress(Coding::kZstd, 22, input);
  ASSERT_TRUE(out);
  ZSTD_frameHeader header{};
  ASSERT_EQ(ZSTD_getFrameHeader(&header, out->data(), out->size()), 0u);
  EXPECT_LE(header.windowSize, std::uint64_t{8} << 20);
  std::string decoded(input.size(), '\0');
  EXPECT_EQ(ZSTD_decompress(decoded.data(), decoded.size(), out->data(), out->size()),
            input.size());
  EXPECT_TRUE(decoded == input);
}

}  // namespace
}  // namespace cork
