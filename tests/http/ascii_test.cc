// http/ascii: case-insensitive comparison and OWS trimming, ASCII only.
#include "http/ascii.h"

#include <gtest/gtest.h>

namespace cork {
namespace {

TEST(Ascii, EqualsIgnoreCaseFoldsOnlyAsciiLetters) {
  EXPECT_TRUE(equals_ignore_case("Content-Length", "content-LENGTH"));
  EXPECT_TRUE(equals_ignore_case("", ""));
  EXPECT_FALSE(equals_ignore_case("gzip", "gzi"));
  EXPECT_FALSE(equals_ignore_case("gzip", "gzipx"));
  // '@' and '`' sit next to 'A' and 'a'; '[' next to 'Z': none of them is a letter.
  EXPECT_FALSE(equals_ignore_case("@", "`"));
  EXPECT_FALSE(equals_ignore_case("[", "{"));
  // Bytes above 0x7f are compared as they are (no locale folding).
  EXPECT_FALSE(equals_ignore_case("\xc3\x84", "\xc3\xa4"));
  EXPECT_TRUE(equals_ignore_case("\xc3\x84", "\xc3\x84"));
}

TEST(Ascii, ToLowerAscii) {
  EXPECT_EQ(to_lower_ascii('A'), 'a');
  EXPECT_EQ(to_lower_ascii('Z'), 'z');
  EXPECT_EQ(to_lower_ascii('a'), 'a');
  EXPECT_EQ(to_lower_ascii('@'), '@');
  EXPECT_EQ(to_lower_ascii('['), '[');
  EXPECT_EQ(to_lower_ascii('\xc4'), '\xc4');
}

TEST(Ascii, OwsIsSpaceAndTabOnly) {
  EXPECT_TRUE(is_ows(' '));
  EXPECT_TRUE(is_ows('\t'));
  EXPECT_FALSE(is_ows('\r'));
  EXPECT_FALSE(is_ows('\n'));
  EXPECT_FALSE(is_ows('\v'));
  EXPECT_FALSE(is_ows('x'));
}

TEST(Ascii, Trimming) {
  EXPECT_EQ(trim_ows(" \t a b \t "), "a b");
  EXPECT_EQ(trim_ows(" \t "), "");
  EXPECT_EQ(trim_ows(""), "");
  EXPECT_EQ(trim_ows("\r\nx\r\n"), "\r\nx\r\n");  // CR and LF are not OWS
  EXPECT_EQ(trim_leading_ows(" \tx "), "x ");
  EXPECT_EQ(trim_trailing_ows(" x\t "), " x");
}

}  // namespace
}  // namespace cork
