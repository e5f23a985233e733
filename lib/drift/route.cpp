#include "drift/route.hpp"

#include <algorithm>
#include <cctype>

namespace gostly::drift {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_alnum(char c) noexcept { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool is_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

// `cus_9s8d7f6g5h`, `usr-1a2b3c4d`: a short alphabetic prefix, one separator, then a token of at
// least 8 alphanumerics that holds a digit (so `user-profile` or `read_more` stay literal).
bool is_prefixed_token(std::string_view s) noexcept {
  auto sep = s.find_first_of("_-");
  if (sep == std::string_view::npos || sep == 0 || sep > 12) return false;
  if (!std::all_of(s.begin(), s.begin() + static_cast<long>(sep), [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }))
    return false;
  auto token = s.substr(sep + 1);
  if (token.size() < 8) return false;
  if (!std::all_of(token.begin(), token.end(), is_alnum)) return false;
  return std::any_of(token.begin(), token.end(), is_digit);
}

} // namespace

bool is_identifier_segment(std::string_view segment) noexcept {
  if (segment.empty()) return false;
  if (std::all_of(segment.begin(), segment.end(), is_digit)) return true;
  if (is_uuid(segment)) return true;
  if (segment.size() >= 16 && std::all_of(segment.begin(), segment.end(), is_hex)) return true;
  return is_prefixed_token(segment);
}

// GCC 12 reports a false -Wrestrict on std::string appends inlined at -O2 (GCC bug 105329).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wrestrict"
std::string template_path(std::string_view uri) {
  auto end = uri.find_first_of("?#");
  std::string_view path = uri.substr(0, end);
  std::string out;
  out.reserve(path.size());
  std::size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      out.push_back('/');
      ++pos;
      continue;
    }
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    auto segment = path.substr(pos, next - pos);
    static constexpr std::string_view kId = "{id}";
    std::string_view piece = is_identifier_segment(segment) ? kId : segment;
    out.append(piece.data(), piece.size());
    pos = next;
  }
  if (out.empty()) out = "/";
  return out;
}
#pragma GCC diagnostic pop

} // namespace gostly::drift
