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

std::optional<SystemTime> parse_iso8601(std::string_view text) {
  std::string s(text);
  int year, month, day, hour = 0, minute = 0, second = 0, consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &year, &month, &day, &consumed) != 3 || consumed != 10)
    return std::nullopt;
  std::size_t pos = 10;
  double fraction = 0;
  long offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d:%2d%n", &hour, &minute, &second, &consumed) != 3 ||
        consumed != 8)
      return std::nullopt;
    pos += 9;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      std::size_t start = ++pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == start) return std::nullopt;
      fraction = std::stod("0." + s.substr(start, pos - start));
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        int oh, om;
        if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
        offset_seconds = (oh * 3600L + om * 60L) * (s[pos] == '+' ? 1 : -1);
        pos += 6;
      }
    }
  }
  if (pos != s.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t t = timegm(&tm) - offset_seconds;
  return std::chrono::system_clock::from_time_t(t) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(fraction));
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
