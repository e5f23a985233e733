// Hand-written scanners rather than std::regex: libstdc++'s regex recurses per character and can
// overflow the stack on a multi-megabyte body, and every pattern here is a short left-to-right
// scan. Each pass copies the text once, replacing matches; boundaries are checked against the
// neighbouring characters so `v1.2.3.4.5` or a 13-digit millisecond timestamp are left alone.
#include "bundle/pii.hpp"

#include <cctype>
#include <functional>
#include <optional>
#include <utility>

namespace gostly::bundle {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }

// A matcher looks at position `i` and returns the end of a match starting there, or nullopt.
using Matcher = std::function<std::optional<std::size_t>(std::string_view, std::size_t)>;

std::string replace_all(std::string_view text, const Matcher& match, std::string_view placeholder,
                        std::uint64_t& count) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (auto end = match(text, i)) {
      out += placeholder;
      ++count;
      i = *end;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::optional<std::size_t> match_bearer(std::string_view t, std::size_t i) {
  constexpr std::string_view word = "bearer";
  if (i + word.size() >= t.size()) return std::nullopt;
  for (std::size_t k = 0; k < word.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(t[i + k])) != word[k]) return std::nullopt;
  std::size_t j = i + word.size();
  if (t[j] != ' ') return std::nullopt;
  while (j < t.size() && t[j] == ' ') ++j;
  std::size_t start = j;
  auto token_char = [](char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='; };
  while (j < t.size() && token_char(t[j])) ++j;
  if (j - start < 8) return std::nullopt; // "Bearer realm=..." in prose, not a token
  return j;
}

bool local_char(char c) { return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; }
bool domain_char(char c) { return is_alnum(c) || c == '.' || c == '-'; }

// Emails are found from their '@', so the scan is by hand rather than through replace_all.
std::string scrub_emails(std::string_view t, std::uint64_t& count) {
  std::string out;
  out.reserve(t.size());
  std::size_t copied = 0;
  for (std::size_t at = t.find('@'); at != std::string_view::npos; at = t.find('@', at + 1)) {
    if (at < copied) continue;
    std::size_t l = at;
    while (l > copied && local_char(t[l - 1])) --l;
    // Do not start inside a JSON escape such as `\n` or `\u00e9`: replacing half of it would
    // leave an invalid escape behind.
    for (std::size_t k = (l >= copied + 5 ? l - 5 : copied); k < l; ++k) {
      if (t[k] != '\\') continue;
      std::size_t escape_end = k + ((k + 1 < t.size() && t[k + 1] == 'u') ? 6 : 2);
      if (escape_end > l) l = escape_end;
    }
    std::size_t r = at + 1;
    while (r < t.size() && domain_char(t[r])) ++r;
    while (r > at + 1 && (t[r - 1] == '.' || t[r - 1] == '-')) --r;
    if (l >= at || r <= at + 1) continue;
    std::string_view domain = t.substr(at + 1, r - at - 1);
    auto dot = domain.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || domain.size() - dot - 1 < 2) continue;
    bool tld_alpha = true;
    for (char c : domain.substr(dot + 1)) tld_alpha = tld_alpha && is_alpha(c);
    if (!tld_alpha) continue;
    out.append(t.substr(copied, l - copied));
    out += kEmailPlaceholder;
    ++count;
    copied = r;
    at = r - 1;
  }
  out.append(t.substr(copied));
  return out;
}

std::optional<std::size_t> match_ipv4(std::string_view t, std::size_t i) {
  if (!is_digit(t[i]) || (i > 0 && (is_digit(t[i - 1]) || t[i - 1] == '.'))) return std::nullopt;
  std::size_t j = i;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (j >= t.size() || t[j] != '.') return std::nullopt;
      ++j;
    }
    std::size_t start = j;
    int value = 0;
    while (j < t.size() && is_digit(t[j]) && j - start < 4) value = value * 10 + (t[j++] - '0');
    if (j == start || j - start > 3 || value > 255) return std::nullopt;
  }
  if (j < t.size() && (is_digit(t[j]) || (t[j] == '.' && j + 1 < t.size() && is_digit(t[j + 1])))) return std::nullopt;
  return j;
}

std::optional<std::size_t> match_card(std::string_view t, std::size_t i) {
  if (t[i] < '2' || t[i] > '6' || (i > 0 && is_digit(t[i - 1]))) return std::nullopt;
  std::string digits;
  std::size_t j = i, end = i;
  while (j < t.size() && digits.size() <= 19) {
    if (is_digit(t[j])) {
      digits += t[j++];
      end = j;
    } else if ((t[j] == ' ' || t[j] == '-') && j + 1 < t.size() && is_digit(t[j + 1]) && is_digit(t[j - 1])) {
      ++j;
    } else {
      break;
    }
  }
  if (end < t.size() && is_digit(t[end])) return std::nullopt;
  if (digits.size() < 14 || digits.size() > 19 || !luhn_valid(digits)) return std::nullopt;
  return end;
}

std::optional<std::size_t> match_phone(std::string_view t, std::size_t i) {
  if (i > 0 && (is_digit(t[i - 1]) || t[i - 1] == '+')) return std::nullopt;
  if (t[i] == '+') {
    std::size_t j = i + 1, digits = 0, end = i;
    while (j < t.size() && (is_digit(t[j]) || t[j] == ' ' || t[j] == '-' || t[j] == '.' || t[j] == '(' || t[j] == ')')) {
      if (is_digit(t[j])) {
        ++digits;
        end = j + 1;
      }
      if (j == i + 1 && !is_digit(t[j])) return std::nullopt;
      ++j;
    }
    if (digits < 8 || digits > 15 || (end < t.size() && is_digit(t[end]))) return std::nullopt;
    return end;
  }
  // North American forms: (NNN) NNN-NNNN, NNN-NNN-NNNN, NNN.NNN.NNNN, NNN NNN NNNN.
  std::size_t j = i;
  auto take_digits = [&](std::size_t n) {
    for (std::size_t k = 0; k < n; ++k, ++j)
      if (j >= t.size() || !is_digit(t[j])) return false;
    return true;
  };
  char separator = 0;
  if (t[j] == '(') {
    ++j;
    if (!take_digits(3) || j >= t.size() || t[j] != ')') return std::nullopt;
    ++j;
    if (j < t.size() && t[j] == ' ') ++j;
    separator = '-';
  } else {
    if (!take_digits(3) || j >= t.size()) return std::nullopt;
    separator = t[j];
    if (separator != '-' && separator != '.' && separator != ' ') return std::nullopt;
    ++j;
  }
  if (!take_digits(3) || j >= t.size() || t[j] != separator) return std::nullopt;
  ++j;
  if (!take_digits(4)) return std::nullopt;
  if (j < t.size() && (is_digit(t[j]) || (t[j] == separator && j + 1 < t.size() && is_digit(t[j + 1]))))
    return std::nullopt;
  return j;
}

} // namespace

bool luhn_valid(std::string_view digits) noexcept {
  int sum = 0;
  bool double_it = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (d < 0 || d > 9) return false;
    if (double_it) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double_it = !double_it;
  }
  return !digits.empty() && sum % 10 == 0;
}

std::string scrub_text(std::string_view text, ScrubCounts& counts) {
  // Order matters: tokens first (they may contain anything), then emails, then the digit
  // patterns from the most specific (dotted quads, Luhn-checked cards) to phones.
  std::string out = replace_all(text, match_bearer, kBearerPlaceholder, counts.bearer_tokens);
  out = scrub_emails(out, counts.emails);
  out = replace_all(out, match_ipv4, kIpv4Placeholder, counts.ipv4);
  out = replace_all(out, match_card, kCardPlaceholder, counts.cards);
  out = replace_all(out, match_phone, kPhonePlaceholder, counts.phones);
  return out;
}

} // namespace gostly::bundle
