// Entity-tags: the format and stability of make_etag, RFC 9110 8.8.3.2 comparison, and strict
// parsing of If-Match / If-None-Match lists (malformed input matches nothing).
#include "http/entity_tag.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace cork {
namespace {

TEST(MakeEtag, IsQuotedHexSecondsDotNanosecondsDashHexSize) {
  EXPECT_EQ(make_etag(0x5f5e1000, 0x1f, 0x1234), "\"5f5e1000.1f-1234\"");
  EXPECT_EQ(make_etag(0, 0, 0), "\"0.0-0\"");
  EXPECT_EQ(make_etag(1700000000, 999999999, 4096), "\"6553f100.3b9ac9ff-1000\"");
}

TEST(MakeEtag, AppendsTheVariant) {
  EXPECT_EQ(make_etag(0x5f5e1000, 5, 0x1234, "gz"), "\"5f5e1000.5-1234-gz\"");
  EXPECT_EQ(make_etag(0x5f5e1000, 5, 0x1234, "br"), "\"5f5e1000.5-1234-br\"");
}

TEST(MakeEtag, HandlesExtremeValues) {
  EXPECT_EQ(make_etag(std::numeric_limits<std::int64_t>::max(), 999999999,
                      std::numeric_limits<std::uint64_t>::max()),
            "\"7fffffffffffffff.3b9ac9ff-ffffffffffffffff\"");
  // A pre-1970 mtime is written as its two's complement, still only hex digits.
  EXPECT_EQ(make_etag(-1, 0, 1), "\"ffffffffffffffff.0-1\"");
}

TEST(MakeEtag, IsDeterministicAndDistinguishesVersions) {
  EXPECT_EQ(make_etag(1700000000, 7, 10), make_etag(1700000000, 7, 10));
  EXPECT_EQ(make_etag(1700000000, 7, 10, "gz"), make_etag(1700000000, 7, 10, "gz"));
  EXPECT_NE(make_etag(1700000000, 7, 10), make_etag(1700000001, 7, 10));
  EXPECT_NE(make_etag(1700000000, 7, 10), make_etag(1700000000, 7, 11));
  EXPECT_NE(make_etag(1700000000, 7, 10), make_etag(1700000000, 7, 10, "gz"));
  EXPECT_NE(make_etag(1700000000, 7, 10, "gz"), make_etag(1700000000, 7, 10, "br"));
}

// Two same-size versions written within one second (issue 11: seen 18 times in 8 s of
// rename-replacement with whole-second tags).
TEST(MakeEtag, VersionsWithinOneSecondDiffer) {
  EXPECT_NE(make_etag(1700000000, 100, 10), make_etag(1700000000, 200, 10));
  // No digit run of one field can be mistaken for another's.
  EXPECT_NE(make_etag(0x11, 0x1, 0x1), make_etag(0x1, 0x11, 0x1));
}

TEST(MakeEtag, ProducesAValidStrongTag) {
  for (const std::string& tag :
       {make_etag(1, 0, 2), make_etag(-5, 999999999, 0), make_etag(3, 1, 4, "br")}) {
    EXPECT_TRUE(strong_match(tag, tag)) << tag;
    EXPECT_TRUE(list_matches(tag, tag, false)) << tag;
  }
}

// The example table of RFC 9110 8.8.3.2; weak comparison is what list_matches does for
// If-None-Match.
TEST(EntityTagComparison, Rfc9110Table) {
  EXPECT_FALSE(strong_match("W/\"1\"", "W/\"1\""));
  EXPECT_TRUE(list_matches("W/\"1\"", "W/\"1\"", /*weak=*/true));

  EXPECT_FALSE(strong_match("W/\"1\"", "W/\"2\""));
  EXPECT_FALSE(list_matches("W/\"1\"", "W/\"2\"", /*weak=*/true));

  EXPECT_FALSE(strong_match("W/\"1\"", "\"1\""));
  EXPECT_TRUE(list_matches("W/\"1\"", "\"1\"", /*weak=*/true));

  EXPECT_TRUE(strong_match("\"1\"", "\"1\""));
  EXPECT_TRUE(list_matches("\"1\"", "\"1\"", /*weak=*/true));
}

TEST(EntityTagComparison, IsSymmetricAndCaseSensitive) {
  EXPECT_FALSE(strong_match("\"1\"", "W/\"1\""));
  EXPECT_TRUE(list_matches("\"1\"", "W/\"1\"", /*weak=*/true));
  EXPECT_FALSE(strong_match("\"abc\"", "\"ABC\""));
  EXPECT_FALSE(list_matches("\"abc\"", "\"ABC\"", /*weak=*/true));
}

TEST(EntityTagComparison, AcceptsEmptyOpaqueTagAndObsText) {
  EXPECT_TRUE(strong_match("\"\"", "\"\""));
  EXPECT_TRUE(strong_match("\"caf\xc3\xa9\"", "\"caf\xc3\xa9\""));
  EXPECT_TRUE(strong_match("\"!#~\"", "\"!#~\""));
}

TEST(EntityTagComparison, MalformedTagsMatchNothing) {
  for (const char* bad : {"", "1", "\"1", "1\"", "w/\"1\"", "W/1", "W/ \"1\"", "W\"1\"", "\"a\"b\"",
                          "\"a b\"", "\"a\tb\"", "\"1\" ", " \"1\"", "\"1\"\"1\"", "*", "W/"}) {
    EXPECT_FALSE(strong_match(bad, bad)) << bad;
    EXPECT_FALSE(strong_match(bad, "\"1\"")) << bad;
    EXPECT_FALSE(strong_match("\"1\"", bad)) << bad;
  }
  const std::string with_nul("\"a\0b\"", 5);
  EXPECT_FALSE(strong_match(with_nul, with_nul));
  EXPECT_FALSE(strong_match("\"a\x7f\"", "\"a\x7f\""));
}

TEST(TagList, MatchesASingleTag) {
  EXPECT_TRUE(list_matches("\"abc\"", "\"abc\"", false));
  EXPECT_TRUE(list_matches("\"abc\"", "\"abc\"", true));
  EXPECT_FALSE(list_matches("\"abd\"", "\"abc\"", false));
  EXPECT_FALSE(list_matches("\"abd\"", "\"abc\"", true));
}

TEST(TagList, StarMatchesAnyRepresentation) {
  EXPECT_TRUE(list_matches("*", "\"abc\"", false));
  EXPECT_TRUE(list_matches("*", "\"abc\"", true));
  EXPECT_TRUE(list_matches(" *\t", "\"abc\"", false));
}

TEST(TagList, StarInsideAListIsMalformed) {
  EXPECT_FALSE(list_matches("*, \"abc\"", "\"abc\"", false));
  EXPECT_FALSE(list_matches("\"abc\", *", "\"abc\"", true));
  EXPECT_FALSE(list_matches("**", "\"abc\"", true));
}

TEST(TagList, FindsTheTagAnywhereInTheList) {
  EXPECT_TRUE(list_matches("\"a\", \"b\", \"abc\"", "\"abc\"", false));
  EXPECT_TRUE(list_matches("\"abc\",\"a\"", "\"abc\"", false));
  EXPECT_TRUE(list_matches("\"a\" ,\t\"abc\" , \"b\"", "\"abc\"", false));
  EXPECT_FALSE(list_matches("\"a\", \"b\"", "\"abc\"", true));
}

TEST(TagList, WeakTagsMatchOnlyUnderWeakComparison) {
  EXPECT_FALSE(list_matches("W/\"abc\"", "\"abc\"", false));
  EXPECT_TRUE(list_matches("W/\"abc\"", "\"abc\"", true));
  EXPECT_TRUE(list_matches("\"x\", W/\"abc\"", "\"abc\"", true));
  EXPECT_TRUE(list_matches("W/\"abc\", \"abc\"", "\"abc\"", false));
}

TEST(TagList, IgnoresEmptyElements) {
  EXPECT_TRUE(list_matches(", \"abc\"", "\"abc\"", false));
  EXPECT_TRUE(list_matches("\"abc\",", "\"abc\"", false));
  EXPECT_TRUE(list_matches("\"a\",, ,\"abc\"", "\"abc\"", false));
  EXPECT_TRUE(list_matches("  \"abc\"  ", "\"abc\"", false));
}

TEST(TagList, AListWithoutElementsMatchesNothing) {
  for (const char* empty : {"", " ", ",", " , ,\t"}) {
    EXPECT_FALSE(list_matches(empty, "\"abc\"", false)) << '[' << empty << ']';
    EXPECT_FALSE(list_matches(empty, "\"abc\"", true)) << '[' << empty << ']';
  }
}

TEST(TagList, AMalformedListMatchesNothingEvenIfItContainsTheTag) {
  for (const char* bad :
       {"\"abc\", garbage", "garbage, \"abc\"", "\"abc\" \"x\"", "\"abc\"x", "\"abc\";q=1",
        "\"abc\", \"x", "abc", "w/\"abc\"", "\"abc\", W/", "\"abc\", W/ \"x\"", "\"abc\"\r\n"}) {
    EXPECT_FALSE(list_matches(bad, "\"abc\"", false)) << bad;
    EXPECT_FALSE(list_matches(bad, "\"abc\"", true)) << bad;
  }
}

TEST(TagList, AMalformedCurrentTagMatchesOnlyStar) {
  EXPECT_FALSE(list_matches("abc", "abc", true));
  EXPECT_FALSE(list_matches("\"abc\"", "abc", true));
  EXPECT_TRUE(list_matches("*", "abc", true));
}

TEST(TagList, VariantsAreDistinctRepresentations) {
  const std::string plain = make_etag(1700000000, 0, 100);
  const std::string gz = make_etag(1700000000, 0, 100, "gz");
  EXPECT_FALSE(list_matches(plain, gz, true));
  EXPECT_TRUE(list_matches(plain + ", " + gz, gz, false));
}

// Every truncation of a valid list is either the whole list or malformed; none may match a tag
// that only the whole list contains, and none may crash.
TEST(TagList, EveryTruncationIsHandled) {
  const std::string list = "\"a\", W/\"b\" ,\t\"last\"";
  for (std::size_t n = 0; n <= list.size(); ++n) {
    const std::string_view prefix = std::string_view(list).substr(0, n);
    EXPECT_EQ(list_matches(prefix, "\"last\"", false), n == list.size()) << prefix;
    EXPECT_EQ(list_matches(prefix, "\"last\"", true), n == list.size()) << prefix;
  }
}

}  // namespace
}  // namespace cork
