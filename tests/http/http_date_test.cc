// format_http_date / parse_http_date: known instants, the three forms of RFC 9110 5.6.7, round
// trips, and what is refused (a refused If-Modified-Since is ignored, so refusing is safe;
// accepting garbage as some instant is not).
#include "http/http_date.h"

#include <gtest/gtest.h>

#include <ctime>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace cork {
namespace {

struct Known {
  std::time_t t;
  std::string imf;
};

// Checked against `date -u -d @t`.
const std::vector<Known> kKnown = {
    {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
    {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},  // the example of RFC 9110 5.6.7
    {946684799, "Fri, 31 Dec 1999 23:59:59 GMT"},
    {951825600, "Tue, 29 Feb 2000 12:00:00 GMT"},   // leap day of a year divisible by 400
    {1709164800, "Thu, 29 Feb 2024 00:00:00 GMT"},  // leap day
    {2147483647, "Tue, 19 Jan 2038 03:14:07 GMT"},  // 2^31 - 1
    {2147483648, "Tue, 19 Jan 2038 03:14:08 GMT"},  // 2^31: no 32-bit overflow
    {3124224000, "Tue, 01 Jan 2069 00:00:00 GMT"},
    {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"},  // the last instant with a 4-digit year
};

TEST(FormatHttpDate, KnownInstants) {
  for (const Known& k : kKnown) {
    SCOPED_TRACE("t = " + std::to_string(k.t));
    const std::string s = format_http_date(k.t);
    EXPECT_EQ(s, k.imf);
    EXPECT_EQ(s.size(), kHttpDateLength);
  }
}

TEST(FormatHttpDate, BeforeTheEpoch) {
  // A file's mtime can precede 1970 (ext4 goes back to 1901); Last-Modified must still be right.
  EXPECT_EQ(format_http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(format_http_date(-6 * 86400), "Fri, 26 Dec 1969 00:00:00 GMT");
  EXPECT_EQ(format_http_date(-2147483648), "Fri, 13 Dec 1901 20:45:52 GMT");  // -2^31
  EXPECT_EQ(format_http_date(-62167219200), "Sat, 01 Jan 0000 00:00:00 GMT");
}

TEST(FormatHttpDate, ClampsInstantsWithoutAFourDigitYear) {
  // IMF-fixdate has exactly four year digits. Outside years 0000..9999 the output is clamped to
  // the nearest representable instant: never a wrapped year, never a non-digit byte in a header.
  EXPECT_EQ(format_http_date(253402300800), "Fri, 31 Dec 9999 23:59:59 GMT");
  EXPECT_EQ(format_http_date(std::numeric_limits<std::time_t>::max()),
            "Fri, 31 Dec 9999 23:59:59 GMT");
  EXPECT_EQ(format_http_date(-62167219201), "Sat, 01 Jan 0000 00:00:00 GMT");
  EXPECT_EQ(format_http_date(std::numeric_limits<std::time_t>::min()),
            "Sat, 01 Jan 0000 00:00:00 GMT");
}

TEST(FormatHttpDate, EveryWeekdayAndMonth) {
  // 1970-01-01 was a Thursday; the seven days after it cover every weekday name.
  const char* const days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(format_http_date(std::time_t{i} * 86400).substr(0, 3), days[i]);
  }
  // The 15th of each month of 2023 (not a leap year).
  const std::time_t fifteenth[] = {1673740800, 1676419200, 1678838400, 1681516800,
                                   1684108800, 1686787200, 1689379200, 1692057600,
                                   1694736000, 1697328000, 1700006400, 1702598400};
  const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int m = 0; m < 12; ++m) {
    SCOPED_TRACE(months[m]);
    EXPECT_EQ(format_http_date(fifteenth[m]).substr(5, 11),
              std::string("15 ") + months[m] + " 2023");
  }
}

TEST(ParseHttpDate, ImfFixdate) {
  for (const Known& k : kKnown) {
    SCOPED_TRACE(k.imf);
    EXPECT_EQ(parse_http_date(k.imf), k.t);
  }
}

TEST(ParseHttpDate, Rfc850FormWithTwoDigitYear) {
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
  EXPECT_EQ(parse_http_date("Friday, 31-Dec-99 23:59:59 GMT"), 946684799);
  // Two-digit years below 70 are in the 2000s (RFC 9110 5.6.7: not more than 50 years ahead).
  EXPECT_EQ(parse_http_date("Tuesday, 29-Feb-00 12:00:00 GMT"), 951825600);
  EXPECT_EQ(parse_http_date("Thursday, 29-Feb-24 00:00:00 GMT"), 1709164800);
  EXPECT_EQ(parse_http_date("Tuesday, 01-Jan-69 00:00:00 GMT"), 3124224000);
  // Every long weekday name is recognised.
  EXPECT_EQ(parse_http_date("Monday, 07-Nov-94 08:49:37 GMT"), 784111777 + 86400);
  EXPECT_EQ(parse_http_date("Wednesday, 09-Nov-94 08:49:37 GMT"), 784111777 + 3 * 86400);
  EXPECT_EQ(parse_http_date("Saturday, 12-Nov-94 08:49:37 GMT"), 784111777 + 6 * 86400);
}

TEST(ParseHttpDate, AsctimeForm) {
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);  // day padded with a space
  EXPECT_EQ(parse_http_date("Thu Jan  1 00:00:00 1970"), 0);
  EXPECT_EQ(parse_http_date("Thu Feb 29 00:00:00 2024"), 1709164800);
  EXPECT_EQ(parse_http_date("Tue Jan 19 03:14:08 2038"), 2147483648);
  EXPECT_EQ(parse_http_date("Sun Nov 6 08:49:37 1994"), std::nullopt);  // padding missing
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 94"), std::nullopt);
}

TEST(ParseHttpDate, AllThreeFormsAgree) {
  const auto imf = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  ASSERT_TRUE(imf.has_value());
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), imf);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), imf);
}

TEST(HttpDate, FormatThenParseRoundTrips) {
  // A step that is not a multiple of a day or an hour, so that every field varies.
  for (std::time_t t = 0; t < 4102444800; t += 9999991) {  // up to 2100-01-01
    SCOPED_TRACE("t = " + std::to_string(t));
    EXPECT_EQ(parse_http_date(format_http_date(t)), t);
  }
  for (std::time_t t = 1709078400 - 3; t < 1709078400 + 3 * 86400; t += 3607) {  // Feb 28..Mar 2
    SCOPED_TRACE("t = " + std::to_string(t));
    EXPECT_EQ(parse_http_date(format_http_date(t)), t);
  }
}

TEST(ParseHttpDate, IgnoresAWrongWeekday) {
  // The weekday is redundant and not checked against the date (nor does RFC 9110 require it):
  // 1994-11-06 was a Sunday, but any valid weekday name parses to the same instant.
  EXPECT_EQ(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Wednesday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Fri Nov  6 08:49:37 1994"), 784111777);
  // But it must be a weekday name, in the form's own spelling.
  EXPECT_EQ(parse_http_date("Xyz, 06 Nov 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Sunday, 06 Nov 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Sun, 06-Nov-94 08:49:37 GMT"), std::nullopt);
}

TEST(ParseHttpDate, RejectsOutOfRangeFields) {
  const char* const bad[] = {
      "Sun, 00 Nov 1994 08:49:37 GMT",  // day 0
      "Sun, 32 Jan 1994 08:49:37 GMT",
      "Sun, 31 Nov 1994 08:49:37 GMT",  // November has 30 days
      "Sun, 31 Apr 1994 08:49:37 GMT",  "Sun, 30 Feb 2024 08:49:37 GMT",
      "Sun, 29 Feb 2023 08:49:37 GMT",  // not a leap year
      "Sun, 29 Feb 2100 08:49:37 GMT",  // divisible by 100, not by 400
      "Sun, 06 Nov 1994 24:00:00 GMT",  "Sun, 06 Nov 1994 08:60:37 GMT",
      "Sun, 06 Nov 1994 08:49:61 GMT",  "Sun, 06 Nov 1994 99:99:99 GMT",
      "Sun, 06 Xyz 1994 08:49:37 GMT",  // no such month
      "Sun, 06 Nov 1969 08:49:37 GMT",  // before the epoch: refused, not negative
      "Wed, 31 Dec 1969 23:59:59 GMT",  "Sun, 06 Nov 0000 08:49:37 GMT",
      "Sunday, 00-Nov-94 08:49:37 GMT", "Sunday, 31-Nov-94 08:49:37 GMT",
      "Sunday, 06-Nov-94 25:49:37 GMT", "Sun Nov  0 08:49:37 1994",
      "Sun Nov 31 08:49:37 1994",       "Sun Feb 29 08:49:37 2023",
      "Sun Nov  6 08:49:37 1969",       "Sun Nov  6 24:49:37 1994",
  };
  for (const char* text : bad) {
    SCOPED_TRACE(text);
    EXPECT_EQ(parse_http_date(text), std::nullopt);
  }
}

TEST(ParseHttpDate, LeapSecondIsTheSecondBefore) {
  EXPECT_EQ(parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT"),
            parse_http_date("Sat, 31 Dec 2016 23:59:59 GMT"));
  EXPECT_EQ(parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT"), 1483228799);
}

TEST(ParseHttpDate, RejectsGarbageTrailingJunkAndEmpty) {
  const std::string bad[] = {
      "",
      " ",
      "garbage",
      "784111777",
      "Sun",
      "Sun, ",
      "Sun, 06 Nov 1994",
      "Sun, 06 Nov 1994 08:49:37",      // GMT missing
      "Sun, 06 Nov 1994 08:49:37 UTC",  // only "GMT" is allowed
      "Sun, 06 Nov 1994 08:49:37 +0000",
      "Sun, 06 Nov 1994 08:49:37 gmt",
      "sun, 06 nov 1994 08:49:37 GMT",  // names are case-sensitive (RFC 9110 5.6.7)
      "Sun, 06 NOV 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 08:49:37 GMT ",  // trailing junk
      "Sun, 06 Nov 1994 08:49:37 GMTx",
      "Sun, 06 Nov 1994 08:49:37 GMT\r\n",
      "Sun, 06 Nov 1994 08:49:37 GMT; length=100",  // old IE's If-Modified-Since suffix
      " Sun, 06 Nov 1994 08:49:37 GMT",             // leading space
      "Sun,  06 Nov 1994 08:49:37 GMT",
      "Sun, 6 Nov 1994 08:49:37 GMT",  // two digits required
      "Sun, 06 Nov 94 08:49:37 GMT",
      "Sun, 06 Nov 01994 08:49:37 GMT",
      "Sun, 06 Nov 1994 8:49:37 GMT",
      "Sun, 06 Nov 1994 08:49 GMT",
      "Sun, 06 Nov 1994 08-49-37 GMT",
      "Sun, 0x Nov 1994 08:49:37 GMT",
      "Sun, -6 Nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 08:49:37.5 GMT",
      "Sunday, 06-Nov-1994 08:49:37 GMT",
      "Sunday, 06-Nov-94 08:49:37",
      "Sun Nov  6 08:49:37 1994 ",
      "Sun Nov  6 08:49:37",
      std::string("Sun, 06 Nov 1994 08:49:37 GMT\0", 30),
  };
  for (const std::string& text : bad) {
    SCOPED_TRACE("\"" + text + "\"");
    EXPECT_EQ(parse_http_date(text), std::nullopt);
  }
}

}  // namespace
}  // namespace cork
