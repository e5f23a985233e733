// String formats by form alone (string_format.hpp). The tests cut both ways: drift counts a
// format per field, so a format that matched too much would hide drift; the normalized tier
// ignores values of per-run formats, so one that matched too much would merge requests that
// differ. Hence named forms only, strictly parsed, and `text` for everything else.
#include "util/string_format.hpp"

#include <algorithm>
#include <cctype>

namespace gostly::util {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool digits(std::string_view s, std::size_t pos, std::size_t count) noexcept {
  if (pos + count > s.size()) return false;
  for (std::size_t i = pos; i < pos + count; ++i)
    if (!is_digit(s[i])) return false;
  return true;
}

} // namespace

bool looks_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

namespace {

// YYYY-MM-DD, optionally followed by [T ]HH:MM[:SS[.fff]] and Z or ±HH[:MM]. 0: not a
// timestamp, 1: date only, 2: date and time without zone, 3: with zone.
int iso_level(std::string_view s) noexcept {
  if (!(digits(s, 0, 4) && s.size() >= 10 && s[4] == '-' && digits(s, 5, 2) && s[7] == '-' && digits(s, 8, 2)))
    return 0;
  if (s.size() == 10) return 1;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return 0;
  if (!(digits(s, 11, 2) && s.size() >= 16 && s[13] == ':' && digits(s, 14, 2))) return 0;
  std::size_t pos = 16;
  if (pos < s.size() && s[pos] == ':') {
    if (!digits(s, pos + 1, 2)) return false;
    pos += 3;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      std::size_t start = pos;
      while (pos < s.size() && is_digit(s[pos])) ++pos;
      if (pos == start) return 0;
    }
  }
  if (pos == s.size()) return 2;
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) return 3;
  if (s[pos] != '+' && s[pos] != '-') return 0;
  if (!digits(s, pos + 1, 2)) return 0;
  pos += 3;
  if (pos == s.size()) return 3;
  if (s[pos] == ':') ++pos;
  return digits(s, pos, 2) && pos + 2 == s.size() ? 3 : 0;
}

bool looks_ipv4(std::string_view s) noexcept {
  int parts = 0;
  std::size_t pos = 0;
  while (true) {
    std::size_t start = pos;
    int value = 0;
    while (pos < s.size() && is_digit(s[pos]) && pos - start < 3) value = value * 10 + (s[pos++] - '0');
    if (pos == start || value > 255) return false;
    ++parts;
    if (pos == s.size()) return parts == 4;
    if (s[pos] != '.' || parts == 4) return false;
    ++pos;
  }
}

bool looks_numeric(std::string_view s) noexcept {
  std::size_t pos = (!s.empty() && s[0] == '-') ? 1 : 0;
  std::size_t start = pos;
  while (pos < s.size() && is_digit(s[pos])) ++pos;
  if (pos == start) return false;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t frac = pos;
    while (pos < s.size() && is_digit(s[pos])) ++pos;
    if (pos == frac) return false;
  }
  return pos == s.size();
}

// +1 (555) 123-4567, 555-123-4567: 7 to 15 digits with phone punctuation. Bare digit strings are
// numeric_string; a phone number needs a leading + or at least one separator.
bool looks_phone(std::string_view s) noexcept {
  int count = 0;
  bool punctuated = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (is_digit(c)) ++count;
    else if (c == '+' && i == 0) punctuated = true;
    else if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.') punctuated = true;
    else return false;
  }
  return punctuated && count >= 7 && count <= 15;
}

bool looks_email(std::string_view s) noexcept {
  auto at = s.find('@');
  if (at == 0 || at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos) return false;
  auto domain = s.substr(at + 1);
  auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 2 > domain.size()) return false;
  return std::none_of(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

bool looks_url(std::string_view s) noexcept {
  auto scheme_end = s.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0 || scheme_end + 3 >= s.size()) return false;
  for (std::size_t i = 0; i < scheme_end; ++i)
    if (!(std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '+' || s[i] == '.' || s[i] == '-')) return false;
  return std::none_of(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

} // namespace

std::string_view to_string(StringFormat format) noexcept {
  static constexpr std::string_view names[] = {"uuid", "iso_datetime", "url", "email", "ipv4", "phone",
                                               "numeric_string", "text", "datetime_local", "date"};
  return names[static_cast<std::size_t>(format)];
}

bool is_time_format(StringFormat format) noexcept {
  return format == StringFormat::iso_datetime || format == StringFormat::datetime_local || format == StringFormat::date;
}

StringFormat classify_string(std::string_view value) noexcept {
  if (looks_uuid(value)) return StringFormat::uuid;
  switch (iso_level(value)) {
  case 1: return StringFormat::date;
  case 2: return StringFormat::datetime_local;
  case 3: return StringFormat::iso_datetime;
  default: break;
  }
  if (looks_ipv4(value)) return StringFormat::ipv4;
  if (looks_numeric(value)) return StringFormat::numeric_string;
  if (looks_phone(value)) return StringFormat::phone;
  if (looks_email(value)) return StringFormat::email;
  if (looks_url(value)) return StringFormat::url;
  return StringFormat::text;
}

EpochUnit epoch_near(std::int64_t value, std::int64_t around_seconds, std::int64_t window_seconds) noexcept {
  auto near = [&](std::int64_t seconds) {
    return seconds >= around_seconds - window_seconds && seconds <= around_seconds + window_seconds;
  };
  if (value >= 1'000'000'000 && value <= 9'999'999'999) return near(value) ? EpochUnit::seconds : EpochUnit::none;
  if (value >= 1'000'000'000'000 && value <= 9'999'999'999'999)
    return near(value / 1000) ? EpochUnit::millis : EpochUnit::none;
  return EpochUnit::none;
}

bool looks_nonce(std::string_view s) noexcept {
  bool digit = false, upper = false, lower = false, hex = true;
  std::size_t end = s.size();
  while (end > 0 && s[end - 1] == '=' && s.size() - end < 2) --end; // base64 padding
  for (std::size_t i = 0; i < end; ++i) {
    char c = s[i];
    if (is_digit(c)) digit = true;
    else if (c >= 'A' && c <= 'Z') upper = true;
    else if (c >= 'a' && c <= 'z') lower = true;
    else if (c != '+' && c != '/' && c != '-' && c != '_') return false;
    hex = hex && is_hex(c);
  }
  if (hex && end == s.size() && s.size() >= 16) return digit && (upper || lower);
  return end >= 20 && digit && upper && lower;
}

} // namespace gostly::util
