#include "util/time.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <random>

namespace gostly::util {

std::string format_iso8601(SystemTime when) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(when.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int millis = static_cast<int>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    --secs;
  }
  // Every recorded interaction is stamped, mostly many within one second: the text up to the
  // seconds is formatted once per second per thread, only the milliseconds each time.
  thread_local std::time_t cached_secs = -1;
  thread_local char cached[80];
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_secs = secs;
  }
  std::string out(cached);
  out += static_cast<char>('0' + millis / 100);
  out += static_cast<char>('0' + millis / 10 % 10);
  out += static_cast<char>('0' + millis % 10);
  out += 'Z';
  return out;
}

std::string now_iso8601() { return format_iso8601(std::chrono::system_clock::now()); }

namespace {

// `n` ASCII digits at `s[pos]` as a number, or -1 (sscanf's %d would also take signs and spaces).
int digits(std::string_view s, std::size_t pos, std::size_t n) noexcept {
  if (pos + n > s.size()) return -1;
  int value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

bool is_leap(int year) noexcept { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) noexcept {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil): no
// timegm(), no locale, no time zone database.
std::int64_t days_from_civil(int y, int m, int d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

} // namespace

std::optional<SystemTime> parse_iso8601(std::string_view s) {
  // Strict: fixed-width digits only, every field in range (a day that exists in its month,
  // offsets up to 23:59), nothing after the zone. A date alone or a time without zone (read as
  // UTC) are accepted as before.
  const int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || s[4] != '-' || s[7] != '-' || day > days_in_month(year, month))
    return std::nullopt;
  std::size_t pos = 10;
  int hour = 0, minute = 0, second = 0;
  long offset_seconds = 0;
  std::chrono::nanoseconds fraction{0};
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    hour = digits(s, pos + 1, 2), minute = digits(s, pos + 4, 2), second = digits(s, pos + 7, 2);
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60 || s[pos + 3] != ':' ||
        s[pos + 6] != ':')
      return std::nullopt;
    pos += 9;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      std::size_t start = ++pos;
      std::int64_t ns = 0, scale = 1000000000;
      for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos)
        if (scale > 1) ns += (s[pos] - '0') * (scale /= 10);
      if (pos == start) return std::nullopt;
      fraction = std::chrono::nanoseconds(ns);
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        const int oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59 || s[pos + 3] != ':') return std::nullopt;
        offset_seconds = (oh * 3600L + om * 60L) * (s[pos] == '+' ? 1 : -1);
        pos += 6;
      }
    }
  }
  if (pos != s.size()) return std::nullopt;
  const std::int64_t t = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  // The clock counts nanoseconds in 64 bits: years outside about 1678-2261 do not fit (found by
  // the HAR fuzzer as a signed overflow); such a time is out of range, not wrapped around.
  constexpr auto kLimit = std::chrono::duration_cast<std::chrono::seconds>(SystemTime::duration::max()).count() - 1;
  if (t >= kLimit || t <= -kLimit) return std::nullopt;
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(std::chrono::seconds(t) + fraction));
}

std::string random_id(std::string_view prefix, bool with_time) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  // One id per recorded interaction: hex by hand, not snprintf.
  static constexpr char hex[] = "0123456789abcdef";
  char buf[17];
  std::uint64_t bits = rng();
  for (int i = 15; i >= 0; --i, bits >>= 4) buf[i] = hex[bits & 15];
  buf[16] = '\0';
  std::string id(prefix);
  if (!id.empty()) id += '-';
  if (with_time) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[20];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    id += stamp;
    id += '-';
    id.append(buf, 8);
  } else {
    id += buf;
  }
  return id;
}

} // namespace gostly::util
