// Conditional requests: each precondition header alone, the RFC 9110 13.2.2 evaluation order
// when they are combined, and If-Range (RFC 9110 13.1.5).
#include "http/conditional.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/http_date.h"

namespace cork {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

RequestHead head(const Fields& fields) {
  RequestHead h;
  h.method = Method::kGet;
  for (const auto& [name, value] : fields) {
    h.begin_field();
    h.append_name(name);
    h.append_value(value);
  }
  return h;
}

constexpr std::time_t kModified = 1700000000;  // Tue, 14 Nov 2023 22:13:20 GMT
const std::string kTag = "\"6553f100-400\"";
const Validators kValidators{kTag, kModified, kModified + 3600};

std::string date(std::time_t t) {
  return format_http_date(t);
}

Precondition evaluate(const Fields& fields, const Validators& v = kValidators) {
  return evaluate_preconditions(head(fields), v);
}

bool if_range(const Fields& fields, const Validators& v = kValidators) {
  return if_range_allows(head(fields), v);
}

TEST(Preconditions, NoConditionalHeadersProceed) {
  EXPECT_EQ(evaluate({}), Precondition::kProceed);
  EXPECT_EQ(evaluate({{"Host", "x"}, {"Range", "bytes=0-1"}}), Precondition::kProceed);
}

// --- If-Match (RFC 9110 13.1.1) ---

TEST(IfMatch, MatchingTagProceeds) {
  EXPECT_EQ(evaluate({{"If-Match", kTag}}), Precondition::kProceed);
  EXPECT_EQ(evaluate({{"if-match", kTag}}), Precondition::kProceed);
}

TEST(IfMatch, OtherTagFails) {
  EXPECT_EQ(evaluate({{"If-Match", "\"other\""}}), Precondition::kFailed);
}

TEST(IfMatch, StarProceeds) {
  EXPECT_EQ(evaluate({{"If-Match", "*"}}), Precondition::kProceed);
}

TEST(IfMatch, WeakTagFailsStrongComparison) {
  EXPECT_EQ(evaluate({{"If-Match", "W/" + kTag}}), Precondition::kFailed);
}

TEST(IfMatch, MalformedValueFails) {
  for (const char* bad : {"", "garbage", "\"6553f100-400", "*, \"x\""}) {
    EXPECT_EQ(evaluate({{"If-Match", bad}}), Precondition::kFailed) << bad;
  }
  EXPECT_EQ(evaluate({{"If-Match", kTag + ", garbage"}}), Precondition::kFailed);
}

TEST(IfMatch, ListAndSeveralFieldsAreOneList) {
  EXPECT_EQ(evaluate({{"If-Match", "\"a\", " + kTag}}), Precondition::kProceed);
  EXPECT_EQ(evaluate({{"If-Match", "\"a\""}, {"If-Match", kTag}}), Precondition::kProceed);
  EXPECT_EQ(evaluate({{"If-Match", "\"a\""}, {"If-Match", "\"b\""}}), Precondition::kFailed);
  // One malformed field spoils the combined list.
  EXPECT_EQ(evaluate({{"If-Match", kTag}, {"If-Match", "garbage"}}), Precondition::kFailed);
}

// --- If-Unmodified-Since (RFC 9110 13.1.4) ---

TEST(IfUnmodifiedSince, SameDateProceeds) {
  EXPECT_EQ(evaluate({{"If-Unmodified-Since", date(kModified)}}), Precondition::kProceed);
}

TEST(IfUnmodifiedSince, LaterDateProceeds) {
  EXPECT_EQ(evaluate({{"If-Unmodified-Since", date(kModified + 1)}}), Precondition::kProceed);
}

TEST(IfUnmodifiedSince, EarlierDateFails) {
  EXPECT_EQ(evaluate({{"If-Unmodified-Since", date(kModified - 1)}}), Precondition::kFailed);
}

TEST(IfUnmodifiedSince, InvalidDateIsIgnored) {
  for (const char* bad : {"", "yesterday", "Tue, 14 Nov 2023 22:13:20", "1700000000"}) {
    EXPECT_EQ(evaluate({{"If-Unmodified-Since", bad}}), Precondition::kProceed) << bad;
  }
}

TEST(IfUnmodifiedSince, RepeatedFieldIsIgnored) {
  EXPECT_EQ(evaluate({{"If-Unmodified-Since", date(kModified - 10)},
                      {"If-Unmodified-Since", date(kModified - 10)}}),
            Precondition::kProceed);
}

// --- If-None-Match (RFC 9110 13.1.2) ---

TEST(IfNoneMatch, MatchingTagIsNotModified) {
  EXPECT_EQ(evaluate({{"If-None-Match", kTag}}), Precondition::kNotModified);
}

TEST(IfNoneMatch, OtherTagProceeds) {
  EXPECT_EQ(evaluate({{"If-None-Match", "\"other\""}}), Precondition::kProceed);
}

TEST(IfNoneMatch, StarIsNotModified) {
  EXPECT_EQ(evaluate({{"If-None-Match", "*"}}), Precondition::kNotModified);
}

TEST(IfNoneMatch, WeakTagMatchesUnderWeakComparison) {
  EXPECT_EQ(evaluate({{"If-None-Match", "W/" + kTag}}), Precondition::kNotModified);
  EXPECT_EQ(evaluate({{"If-None-Match", "W/\"other\""}}), Precondition::kProceed);
}

TEST(IfNoneMatch, MalformedValueProceeds) {
  for (const char* bad : {"", "garbage", "\"6553f100-400", "*, \"x\"", "W/ \"6553f100-400\""}) {
    EXPECT_EQ(evaluate({{"If-None-Match", bad}}), Precondition::kProceed) << bad;
  }
  EXPECT_EQ(evaluate({{"If-None-Match", kTag + " garbage"}}), Precondition::kProceed);
}

TEST(IfNoneMatch, ListAndSeveralFieldsAreOneList) {
  EXPECT_EQ(evaluate({{"If-None-Match", "\"a\", W/\"b\", " + kTag}}), Precondition::kNotModified);
  EXPECT_EQ(evaluate({{"If-None-Match", "\"a\""}, {"If-None-Match", kTag}}),
            Precondition::kNotModified);
  EXPECT_EQ(evaluate({{"If-None-Match", "\"a\""}, {"If-None-Match", "\"b\""}}),
            Precondition::kProceed);
}

// --- If-Modified-Since (RFC 9110 13.1.3) ---

TEST(IfModifiedSince, SameDateIsNotModified) {
  EXPECT_EQ(evaluate({{"If-Modified-Since", date(kModified)}}), Precondition::kNotModified);
}

TEST(IfModifiedSince, LaterDateIsNotModified) {
  EXPECT_EQ(evaluate({{"If-Modified-Since", date(kModified + 1)}}), Precondition::kNotModified);
}

TEST(IfModifiedSince, EarlierDateProceeds) {
  EXPECT_EQ(evaluate({{"If-Modified-Since", date(kModified - 1)}}), Precondition::kProceed);
}

TEST(IfModifiedSince, ObsoleteDateFormsAreAccepted) {
  EXPECT_EQ(evaluate({{"If-Modified-Since", "Tuesday, 14-Nov-23 22:13:20 GMT"}}),
            Precondition::kNotModified);
  EXPECT_EQ(evaluate({{"If-Modified-Since", "Tue Nov 14 22:13:20 2023"}}),
            Precondition::kNotModified);
  EXPECT_EQ(evaluate({{"If-Modified-Since", "Tue Nov 14 22:13:19 2023"}}), Precondition::kProceed);
}

TEST(IfModifiedSince, InvalidDateIsIgnored) {
  for (const char* bad :
       {"", "now", "Tue, 14 Nov 2023 22:13:20 UTC", "Tue, 14 Nov 2023 25:13:20 GMT",
        "Tue, 14 Nov 2023 22:13:20 GMT, Tue, 14 Nov 2023 22:13:20 GMT"}) {
    EXPECT_EQ(evaluate({{"If-Modified-Since", bad}}), Precondition::kProceed) << bad;
  }
}

TEST(IfModifiedSince, RepeatedFieldIsIgnored) {
  EXPECT_EQ(
      evaluate({{"If-Modified-Since", date(kModified)}, {"If-Modified-Since", date(kModified)}}),
      Precondition::kProceed);
}

// --- Evaluation order (RFC 9110 13.2.2) ---

TEST(PreconditionOrder, FailingIfMatchBeatsMatchingIfNoneMatch) {
  EXPECT_EQ(evaluate({{"If-Match", "\"other\""}, {"If-None-Match", kTag}}), Precondition::kFailed);
  EXPECT_EQ(evaluate({{"If-None-Match", "*"}, {"If-Match", "\"other\""}}), Precondition::kFailed);
}

TEST(PreconditionOrder, FailingIfMatchBeatsIfModifiedSince) {
  EXPECT_EQ(evaluate({{"If-Match", "\"other\""}, {"If-Modified-Since", date(kModified)}}),
            Precondition::kFailed);
}

TEST(PreconditionOrder, PassingIfMatchThenIfNoneMatchDecides) {
  EXPECT_EQ(evaluate({{"If-Match", kTag}, {"If-None-Match", kTag}}), Precondition::kNotModified);
  EXPECT_EQ(evaluate({{"If-Match", "*"}, {"If-None-Match", "\"other\""}}), Precondition::kProceed);
}

TEST(PreconditionOrder, IfUnmodifiedSinceIgnoredWhenIfMatchPresent) {
  EXPECT_EQ(evaluate({{"If-Match", kTag}, {"If-Unmodified-Since", date(kModified - 100)}}),
            Precondition::kProceed);
  // ...even when If-Match is malformed: it alone decides, and fails.
  EXPECT_EQ(evaluate({{"If-Match", "garbage"}, {"If-Unmodified-Since", date(kModified + 100)}}),
            Precondition::kFailed);
}

TEST(PreconditionOrder, FailingIfUnmodifiedSinceBeatsIfNoneMatch) {
  EXPECT_EQ(evaluate({{"If-Unmodified-Since", date(kModified - 1)}, {"If-None-Match", kTag}}),
            Precondition::kFailed);
  EXPECT_EQ(evaluate({{"If-Unmodified-Since", date(kModified)}, {"If-None-Match", kTag}}),
            Precondition::kNotModified);
}

TEST(PreconditionOrder, IfModifiedSinceIgnoredWhenIfNoneMatchPresent) {
  // If-None-Match does not match: the fresh If-Modified-Since must not turn this into a 304.
  EXPECT_EQ(evaluate({{"If-None-Match", "\"other\""}, {"If-Modified-Since", date(kModified)}}),
            Precondition::kProceed);
  // If-None-Match matches: a stale If-Modified-Since must not turn this into a 200.
  EXPECT_EQ(evaluate({{"If-None-Match", kTag}, {"If-Modified-Since", date(kModified - 100)}}),
            Precondition::kNotModified);
  // A malformed If-None-Match still takes If-Modified-Since's place.
  EXPECT_EQ(evaluate({{"If-None-Match", "garbage"}, {"If-Modified-Since", date(kModified)}}),
            Precondition::kProceed);
}

TEST(PreconditionOrder, AllFourPassingReachesStepFour) {
  EXPECT_EQ(evaluate({{"If-Match", kTag},
                      {"If-Unmodified-Since", date(kModified - 100)},
                      {"If-None-Match", "\"other\""},
                      {"If-Modified-Since", date(kModified)}}),
            Precondition::kProceed);
  EXPECT_EQ(
      evaluate({{"If-Unmodified-Since", date(kModified)}, {"If-Modified-Since", date(kModified)}}),
      Precondition::kNotModified);
  EXPECT_EQ(
      evaluate({{"If-Unmodified-Since", "garbage"}, {"If-Modified-Since", date(kModified - 1)}}),
      Precondition::kProceed);
}

// --- If-Range (RFC 9110 13.1.5) ---

TEST(IfRange, AbsentAllowsTheRange) {
  EXPECT_TRUE(if_range({}));
  EXPECT_TRUE(if_range({{"Range", "bytes=0-9"}}));
}

TEST(IfRange, MatchingStrongTagAllows) {
  EXPECT_TRUE(if_range({{"If-Range", kTag}}));
  EXPECT_TRUE(if_range({{"if-range", kTag}}));
  // The parser leaves leading OWS to llhttp; tolerate it anyway.
  EXPECT_TRUE(if_range({{"If-Range", " " + kTag}}));
}

TEST(IfRange, OtherTagRefuses) {
  EXPECT_FALSE(if_range({{"If-Range", "\"other\""}}));
}

TEST(IfRange, WeakTagNeverMatches) {
  EXPECT_FALSE(if_range({{"If-Range", "W/" + kTag}}));
}

TEST(IfRange, ListsAndStarAreNotValidators) {
  EXPECT_FALSE(if_range({{"If-Range", "*"}}));
  EXPECT_FALSE(if_range({{"If-Range", kTag + ", \"other\""}}));
  EXPECT_FALSE(if_range({{"If-Range", kTag}, {"If-Range", kTag}}));
}

TEST(IfRange, ExactStrongDateAllows) {
  EXPECT_TRUE(if_range({{"If-Range", date(kModified)}}));
  EXPECT_TRUE(if_range({{"If-Range", "Tue Nov 14 22:13:20 2023"}}));
}

TEST(IfRange, InexactDateRefuses) {
  EXPECT_FALSE(if_range({{"If-Range", date(kModified - 1)}}));
  // Later is not good enough either: If-Range compares exactly, unlike If-Unmodified-Since.
  EXPECT_FALSE(if_range({{"If-Range", date(kModified + 1)}}));
}

TEST(IfRange, DateOfAFileModifiedWithinTheCurrentSecondIsWeak) {
  const Validators same_second{kTag, kModified, kModified};
  EXPECT_FALSE(if_range({{"If-Range", date(kModified)}}, same_second));
  const Validators one_second_later{kTag, kModified, kModified + 1};
  EXPECT_TRUE(if_range({{"If-Range", date(kModified)}}, one_second_later));
  // A clock behind the file's mtime gives no strong validator either.
  const Validators clock_behind{kTag, kModified, kModified - 5};
  EXPECT_FALSE(if_range({{"If-Range", date(kModified)}}, clock_behind));
  // The entity-tag form does not depend on the clock.
  EXPECT_TRUE(if_range({{"If-Range", kTag}}, same_second));
}

TEST(IfRange, GarbageRefuses) {
  for (const char* bad : {"", "garbage", "\"6553f100-400", "6553f100-400", "W/", "\"",
                          "Tue, 14 Nov 2023 22:13:20 GMTX", "1700000000"}) {
    EXPECT_FALSE(if_range({{"If-Range", bad}})) << bad;
  }
}

TEST(IfRange, DoesNotAffectPreconditions) {
  EXPECT_EQ(evaluate({{"If-Range", "\"other\""}}), Precondition::kProceed);
}

}  // namespace
}  // namespace cork
