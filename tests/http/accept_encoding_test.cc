// accepts_coding and parse_qvalue: RFC 9110 12.5.3 semantics (listed, "*", q=0 refusals,
// aliases, identity) and the handling of malformed field values.
#include "http/accept_encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace cork {
namespace {

TEST(ParseQvalue, AcceptsTheGrammar) {
  EXPECT_EQ(parse_qvalue("0"), 0);
  EXPECT_EQ(parse_qvalue("0."), 0);
  EXPECT_EQ(parse_qvalue("0.5"), 500);
  EXPECT_EQ(parse_qvalue("0.05"), 50);
  EXPECT_EQ(parse_qvalue("0.001"), 1);
  EXPECT_EQ(parse_qvalue("0.999"), 999);
  EXPECT_EQ(parse_qvalue("0.000"), 0);
  EXPECT_EQ(parse_qvalue("1"), 1000);
  EXPECT_EQ(parse_qvalue("1."), 1000);
  EXPECT_EQ(parse_qvalue("1.000"), 1000);
}

TEST(ParseQvalue, RejectsEverythingElse) {
  for (const char* text : {"", "1.5", "1.001", "2", "0.0001", ".5", "abc", "0,5", " 0.5", "0.5 ",
                           "-0", "+1", "0.5a", "1e0", "00.5", "01"}) {
    EXPECT_EQ(parse_qvalue(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(AcceptsCoding, ListedCodings) {
  EXPECT_TRUE(accepts_coding("gzip", "gzip"));
  EXPECT_FALSE(accepts_coding("gzip", "br"));
  EXPECT_TRUE(accepts_coding("gzip, br", "gzip"));
  EXPECT_TRUE(accepts_coding("gzip, br", "br"));
  EXPECT_FALSE(accepts_coding("gzip, br", "zstd"));
  EXPECT_TRUE(accepts_coding("gzip, deflate, br, zstd", "br"));
  EXPECT_TRUE(accepts_coding("br;q=0.001", "br"));
}

TEST(AcceptsCoding, QZeroRefuses) {
  EXPECT_FALSE(accepts_coding("br;q=0", "br"));
  EXPECT_FALSE(accepts_coding("gzip;q=0.000", "gzip"));
  EXPECT_FALSE(accepts_coding("gzip;q=0.", "gzip"));
  EXPECT_TRUE(accepts_coding("br;q=0, gzip", "gzip"));
}

TEST(AcceptsCoding, CaseInsensitive) {
  EXPECT_TRUE(accepts_coding("GZIP;Q=0.5", "gzip"));
  EXPECT_TRUE(accepts_coding("gzip", "GZip"));
  EXPECT_FALSE(accepts_coding("Br;Q=0", "br"));
}

TEST(AcceptsCoding, Wildcard) {
  EXPECT_TRUE(accepts_coding("*", "gzip"));
  EXPECT_TRUE(accepts_coding("*", "br"));
  EXPECT_TRUE(accepts_coding("*;q=0.1", "br"));
  EXPECT_FALSE(accepts_coding("*;q=0", "br"));
  // A listed coding is judged by its own entry, whatever "*" says.
  EXPECT_TRUE(accepts_coding("*;q=0, gzip", "gzip"));
  EXPECT_FALSE(accepts_coding("*;q=0, gzip", "br"));
  EXPECT_FALSE(accepts_coding("br;q=0, *", "br"));
  EXPECT_TRUE(accepts_coding("br;q=0, *", "gzip"));
  EXPECT_FALSE(accepts_coding("*, br;q=0", "br"));
  // "*" is not itself a coding one can ask about.
  EXPECT_FALSE(accepts_coding("*", "*"));
}

TEST(AcceptsCoding, IdentityAndEmpty) {
  // RFC 9110 12.5.3: an empty value means "no content coding", only identity.
  EXPECT_FALSE(accepts_coding("", "gzip"));
  EXPECT_TRUE(accepts_coding("", "identity"));
  EXPECT_FALSE(accepts_coding("identity", "gzip"));
  EXPECT_FALSE(accepts_coding("identity", "br"));
  EXPECT_TRUE(accepts_coding("identity", "identity"));
  EXPECT_TRUE(accepts_coding("gzip", "identity"));
  EXPECT_FALSE(accepts_coding("identity;q=0", "identity"));
  EXPECT_FALSE(accepts_coding("*;q=0", "identity"));
  EXPECT_TRUE(accepts_coding("*;q=0, identity", "identity"));
  EXPECT_FALSE(accepts_coding("identity;q=0, *", "identity"));
}

TEST(AcceptsCoding, XGzipIsGzip) {
  EXPECT_TRUE(accepts_coding("x-gzip", "gzip"));
  EXPECT_TRUE(accepts_coding("X-GZIP;q=0.3", "gzip"));
  EXPECT_FALSE(accepts_coding("x-gzip;q=0, *", "gzip"));
  EXPECT_TRUE(accepts_coding("gzip", "x-gzip"));
  EXPECT_FALSE(accepts_coding("x-gzip", "br"));
  EXPECT_TRUE(accepts_coding("x-compress", "compress"));
}

TEST(AcceptsCoding, ListedTwiceTheLowerQWins) {
  EXPECT_FALSE(accepts_coding("gzip, gzip;q=0", "gzip"));
  EXPECT_FALSE(accepts_coding("gzip;q=0, x-gzip", "gzip"));
  EXPECT_TRUE(accepts_coding("gzip;q=0.2, gzip;q=0.9", "gzip"));
}

TEST(AcceptsCoding, Whitespace) {
  EXPECT_TRUE(accepts_coding("  gzip  ", "gzip"));
  EXPECT_TRUE(accepts_coding("deflate ,\tbr\t, gzip", "br"));
  EXPECT_TRUE(accepts_coding("gzip ; q=0.5", "gzip"));
  EXPECT_TRUE(accepts_coding("gzip\t;\tq=1", "gzip"));
  EXPECT_FALSE(accepts_coding("gzip ; q=0", "gzip"));
  EXPECT_FALSE(accepts_coding("br ;q=0 , *", "br"));
  EXPECT_TRUE(accepts_coding(",, gzip ,,", "gzip"));
  // "q = 0.5" is not the grammar ("q=" qvalue): unreadable, so refused.
  EXPECT_FALSE(accepts_coding("gzip;q = 0.5", "gzip"));
}

TEST(AcceptsCoding, UnreadableWeightCountsAsZero) {
  EXPECT_FALSE(accepts_coding("gzip;q=abc", "gzip"));
  EXPECT_FALSE(accepts_coding("gzip;q=1.5", "gzip"));
  EXPECT_FALSE(accepts_coding("gzip;q=", "gzip"));
  EXPECT_FALSE(accepts_coding("gzip;q", "gzip"));
  EXPECT_FALSE(accepts_coding("gzip;", "gzip"));
  EXPECT_FALSE(accepts_coding("gzip;level=9", "gzip"));
  EXPECT_FALSE(accepts_coding("gzip;q=0.5;q=1", "gzip"));
  // An unreadable "*" refuses the unlisted codings but not the listed ones.
  EXPECT_FALSE(accepts_coding("*;q=2", "br"));
  EXPECT_TRUE(accepts_coding("*;q=2, br", "br"));
  // Only the spoiled element is affected.
  EXPECT_TRUE(accepts_coding("gzip;q=abc, br", "br"));
  EXPECT_FALSE(accepts_coding("gzip;q=1.5, *", "gzip"));
}

TEST(AcceptsCoding, MalformedElementsAreSkipped) {
  EXPECT_FALSE(accepts_coding(";;,,", "gzip"));
  EXPECT_FALSE(accepts_coding(",", "gzip"));
  EXPECT_FALSE(accepts_coding(";q=1", "gzip"));
  EXPECT_TRUE(accepts_coding(";;,, gzip", "gzip"));
  EXPECT_TRUE(accepts_coding("g zip, br", "br"));
  EXPECT_FALSE(accepts_coding("g zip, br", "gzip"));
  EXPECT_TRUE(accepts_coding("\"gzip\", br;q=0.5", "br"));
  EXPECT_FALSE(accepts_coding("\"gzip\"", "gzip"));
  EXPECT_TRUE(accepts_coding("gzip deflate, *", "gzip"));  // not a coding: "*" decides
  EXPECT_FALSE(accepts_coding("gzip", ""));
  EXPECT_FALSE(accepts_coding("gzip", "gz ip"));
}

TEST(AcceptsCoding, ArbitraryBytesNeverCrash) {
  // Every byte value, alone and around a valid element; the answer must stay consistent.
  for (int b = 0; b < 256; ++b) {
    const std::string byte(1, static_cast<char>(b));
    (void)accepts_coding(byte, "gzip");
    (void)accepts_coding("gzip;q=" + byte, "gzip");
    EXPECT_TRUE(accepts_coding(byte + ",gzip", "gzip")) << b;
  }
  const std::string nul("gzip\0, br", 9);
  EXPECT_TRUE(accepts_coding(nul, "br"));
  EXPECT_FALSE(accepts_coding(nul, "gzip"));
}

TEST(CodingWeight, ListedStarAndIdentity) {
  EXPECT_EQ(coding_weight("gzip", "gzip"), 1000);
  EXPECT_EQ(coding_weight("gzip;q=0.5", "gzip"), 500);
  EXPECT_EQ(coding_weight("gzip;q=0.5, gzip;q=0.2", "gzip"), 200) << "listed twice: the lower";
  EXPECT_EQ(coding_weight("*;q=0.3", "zstd"), 300);
  EXPECT_EQ(coding_weight("*;q=0.3, zstd;q=0.9", "zstd"), 900);
  EXPECT_EQ(coding_weight("gzip", "br"), 0);
  EXPECT_EQ(coding_weight("gzip", "identity"), 1) << "acceptable, least wanted";
  EXPECT_EQ(coding_weight("identity;q=0.7", "identity"), 700);
  EXPECT_EQ(coding_weight("*;q=0", "identity"), 0);
  EXPECT_EQ(coding_weight("*;q=0.5", "identity"), 1);
  EXPECT_EQ(coding_weight("x-gzip;q=0.4", "gzip"), 400);
  EXPECT_EQ(coding_weight("gzip;q=abc", "gzip"), 0);
}

TEST(CodingWeight, OnePassAgreesWithEachCodingsWeight) {
  for (const char* value :
       {"", "gzip", "br;q=0.5, gzip", "*;q=0.3, zstd;q=0.9", "*;q=0", "identity;q=0.7, br",
        "x-gzip;q=0.4, gzip;q=0.6", "gzip;q=abc, br;level=9", "*, br;q=0", ";;, ,", "IDENTITY;Q=0",
        "gzip, deflate, br, zstd"}) {
    SCOPED_TRACE(value);
    const CodingWeights w = coding_weights(value);
    EXPECT_EQ(w.br, coding_weight(value, "br"));
    EXPECT_EQ(w.gzip, coding_weight(value, "gzip"));
    EXPECT_EQ(w.zstd, coding_weight(value, "zstd"));
    EXPECT_EQ(w.identity, coding_weight(value, "identity"));
  }
}

}  // namespace
}  // namespace cork
