// HTTP dates: IMF-fixdate out, IMF-fixdate / RFC 850 / asctime in (RFC 9110 5.6.7).
#include "http/http_date.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace cork {

namespace {

constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<const char*, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                  "Thursday", "Friday", "Saturday"};

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDaysIn[m - 1];
}

// A small cursor over the text: every helper consumes exactly what it matched.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  bool literal(std::string_view s) {
    if (text_.substr(0, s.size()) != s) return false;
    text_.remove_prefix(s.size());
    return true;
  }
  // Exactly `n` digits.
  bool digits(std::size_t n, int& out) {
    if (text_.size() < n) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = text_[i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    text_.remove_prefix(n);
    out = v;
    return true;
  }
  bool month(unsigned& out) {
    for (unsigned i = 0; i < kMonths.size(); ++i) {
      if (literal(kMonths[i])) {
        out = i + 1;
        return true;
      }
    }
    return false;
  }
  template <std::size_t N>
  bool one_of(const std::array<const char*, N>& names) {
    for (const char* name : names) {
      if (literal(name)) return true;
    }
    return false;
  }
  bool done() const { return text_.empty(); }
  char peek() const { return text_.empty() ? '\0' : text_.front(); }

 private:
  std::string_view text_;
};

std::optional<std::time_t> make_time(std::int64_t year, unsigned month, int day, int hour,
                                     int minute, int second) {
  if (year < 1970 || year > 9999 || day < 1 || day > static_cast<int>(days_in_month(year, month)) ||
      hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  if (second == 60) second = 59;  // a leap second: the same instant for our purposes
  const std::int64_t days = days_from_civil(year, month, static_cast<unsigned>(day));
  return static_cast<std::time_t>(days * 86400 + hour * 3600 + minute * 60 + second);
}

}  // namespace

std::string format_http_date(std::time_t t) {
  std::string out(kHttpDateLength, ' ');
  write_http_date(t, out.data());
  return out;
}

void write_http_date(std::time_t t, char* out) {
  // IMF-fixdate has exactly four year digits: clamp to 0000-01-01 .. 9999-12-31 23:59:59 rather
  // than wrap the year (or, below year 0, emit non-digit bytes into a header).
  constexpr std::time_t kFirst = -62167219200;  // 0000-01-01 00:00:00
  constexpr std::time_t kLast = 253402300799;   // 9999-12-31 23:59:59
  t = std::clamp(t, kFirst, kLast);
  std::int64_t days = t / 86400;
  std::int64_t rem = t % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // civil_from_days (Howard Hinnant's algorithm).
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2);
  const auto weekday = static_cast<unsigned>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday

  auto put2 = [&](std::size_t at, unsigned v) {
    out[at] = static_cast<char>('0' + v / 10);
    out[at + 1] = static_cast<char>('0' + v % 10);
  };
  std::memcpy(out, kDays[weekday], 3);
  out[3] = ',';
  out[4] = ' ';
  put2(5, day);
  out[7] = ' ';
  std::memcpy(out + 8, kMonths[month - 1], 3);
  out[11] = ' ';
  const auto y = static_cast<unsigned>(year % 10000);
  put2(12, y / 100);
  put2(14, y % 100);
  out[16] = ' ';
  put2(17, static_cast<unsigned>(rem / 3600));
  out[19] = ':';
  put2(20, static_cast<unsigned>(rem / 60 % 60));
  out[22] = ':';
  put2(23, static_cast<unsigned>(rem % 60));
  out[25] = ' ';
  std::memcpy(out + 26, "GMT", 3);
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
  int day = 0, hour = 0, minute = 0, second = 0, year = 0;
  unsigned month = 0;
  {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    Cursor c(text);
    if (c.one_of(kDays) && c.literal(", ") && c.digits(2, day) && c.literal(" ") &&
        c.month(month) && c.literal(" ") && c.digits(4, year) && c.literal(" ") &&
        c.digits(2, hour) && c.literal(":") && c.digits(2, minute) && c.literal(":") &&
        c.digits(2, second) && c.literal(" GMT") && c.done()) {
      return make_time(year, month, day, hour, minute, second);
    }
  }
  {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". Two-digit years: RFC 9110 5.6.7 says a year
    // more than 50 years in the future is in the past century; we read 70..99 as 19xx.
    Cursor c(text);
    if (c.one_of(kLongDays) && c.literal(", ") && c.digits(2, day) && c.literal("-") &&
        c.month(month) && c.literal("-") && c.digits(2, year) && c.literal(" ") &&
        c.digits(2, hour) && c.literal(":") && c.digits(2, minute) && c.literal(":") &&
        c.digits(2, second) && c.literal(" GMT") && c.done()) {
      return make_time(year + (year >= 70 ? 1900 : 2000), month, day, hour, minute, second);
    }
  }
  {
    // asctime: "Sun Nov  6 08:49:37 1994"
    Cursor c(text);
    if (c.one_of(kDays) && c.literal(" ") && c.month(month) && c.literal(" ")) {
      bool ok = c.peek() == ' ' ? (c.literal(" ") && c.digits(1, day)) : c.digits(2, day);
      if (ok && c.literal(" ") && c.digits(2, hour) && c.literal(":") && c.digits(2, minute) &&
          c.literal(":") && c.digits(2, second) && c.literal(" ") && c.digits(4, year) &&
          c.done()) {
        return make_time(year, month, day, hour, minute, second);
      }
    }
  }
  return std::nullopt;
}

}  // namespace cork
