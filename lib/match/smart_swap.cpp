// smart_swap: answering `/users/99` with the recording of `/users/42`.
//
// Templating has to tell ids from words by looking at one path segment alone, because a mock
// library rarely holds enough recordings of a route to infer its parameters statistically. The
// rules are deliberately conservative, since a false "id" merges routes that are really
// different (`/users/me` must not answer as `/users/42`), while a missed id merely falls through
// to a miss that names the nearest recording:
//   - all digits (`42`, `2024`): an id;
//   - a UUID in canonical 8-4-4-4-12 form;
//   - 12 or more hex digits with at least one digit (Mongo ObjectIds, hashes);
//   - a prefixed token, letters then `_` or `-` then 4+ letters/digits with at least one digit
//     (`ch_3Nx8abc`, `cus_A1b2C3d4`, `usr-1234`); `api-v2` fails on its short tail and
//     `address_line2` on its tail being a word and a small number;
//   - a short prefixed id, 1-5 lower-case letters, `_`, digits (`ch_1`, `cus_12`): Stripe-style
//     ids of a sequential test store; `page-2`, `API_1` and `settings_v1` stay words;
//   - a token of 16+ letters and digits mixing both (base62 ids, ULIDs).
// Words, versions (`v1`, `v2beta`) and short mixtures (`2fa`, `oauth2`) stay literal.
//
// Swapping the id in a recorded body is done on the text, not on a parsed tree: re-serialising
// parsed JSON would reorder keys and change whitespace and number spelling, and replay promises
// the recorded bytes except for the swapped id. A tiny scanner tracks whether it is inside a JSON
// string so that a bare number id can stay a number (`"id":42` -> `"id":99`) or become a string
// when the new id is not numeric (`"id":"abc-…"`), and so that a new id is JSON-escaped inside
// strings. Token boundaries keep `142`, `v42` and `4.2` untouched when swapping 42.
#include "match/smart_swap.hpp"

#include "util/string_format.hpp"

#include <algorithm>
#include <cctype>

namespace gostly::match {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) noexcept { return is_digit(c) || is_alpha(c); }
bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_lower(char c) noexcept { return c >= 'a' && c <= 'z'; }

bool all_of(std::string_view s, bool (*pred)(char) noexcept) noexcept {
  return std::all_of(s.begin(), s.end(), pred);
}
bool any_of(std::string_view s, bool (*pred)(char) noexcept) noexcept {
  return std::any_of(s.begin(), s.end(), pred);
}

// `line2`, `step10`: a lower-case word and a small number, as in a field name (`address_line2`).
bool is_numbered_word(std::string_view s) noexcept {
  auto digits = s.find_first_of("0123456789");
  return digits >= 2 && s.size() - digits <= 2 && all_of(s.substr(0, digits), is_lower) &&
         all_of(s.substr(digits), is_digit);
}

bool is_prefixed_token(std::string_view s) noexcept {
  auto sep = s.find_first_of("_-");
  if (sep == std::string_view::npos || sep == 0 || sep > 10) return false;
  auto prefix = s.substr(0, sep);
  auto rest = s.substr(sep + 1);
  if (!all_of(prefix, is_alpha) || rest.empty() || !all_of(rest, is_alnum)) return false;
  if (rest.size() >= 4) return any_of(rest, is_digit) && !is_numbered_word(rest);
  // A short id of a sequential store (`ch_1`, `cus_12`): a short lower-case type prefix, `_`, and
  // only digits. `-` is left out because slugs use it (`page-2`, `top-10`).
  return s[sep] == '_' && prefix.size() <= 5 && all_of(prefix, is_lower) && all_of(rest, is_digit);
}

// A character that continues an id-like token: a match of "42" next to one is part of a
// longer token and must not be swapped.
bool is_token_char(char c) noexcept { return is_alnum(c) || c == '_' || c == '-'; }

bool is_integer(std::string_view s) noexcept {
  auto digits = (!s.empty() && s[0] == '-') ? s.substr(1) : s;
  return !digits.empty() && all_of(digits, is_digit) && (digits.size() == 1 || digits[0] != '0');
}

void append_json_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
}

} // namespace

bool is_id_segment(std::string_view s) noexcept {
  if (s.empty()) return false;
  if (all_of(s, is_digit)) return true;
  if (util::looks_uuid(s)) return true;
  if (s.size() >= 12 && all_of(s, is_hex) && any_of(s, is_digit)) return true;
  if (is_prefixed_token(s)) return true;
  return s.size() >= 16 && all_of(s, is_alnum) && any_of(s, is_digit) && any_of(s, is_alpha);
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return segments;
  std::size_t start = 0;
  while (true) {
    auto slash = path.find('/', start);
    segments.push_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

namespace {

bool is_placeholder(std::string_view segment) noexcept {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// `declared`: the declared template's segments, or null for the id heuristic alone.
PathTemplate build_template(std::string_view path, std::vector<std::string_view> segments,
                            const std::vector<std::string_view>* declared) {
  PathTemplate t;
  t.segments = std::move(segments);
  t.path.reserve(path.size());
  for (std::size_t i = 0; i < t.segments.size(); ++i) {
    t.path += '/';
    if (is_id_segment(t.segments[i]) || (declared && is_placeholder((*declared)[i]))) {
      t.path += "{id}";
      t.id_positions.push_back(i);
    } else {
      t.path += t.segments[i];
    }
  }
  if (t.segments.empty()) t.path.push_back('/');
  return t;
}

} // namespace

PathTemplate make_template(std::string_view path) { return build_template(path, split_path(path), nullptr); }

std::optional<PathTemplate> make_template(std::string_view path, std::string_view declared) {
  auto segments = split_path(path);
  auto declared_segments = split_path(declared);
  if (segments.size() != declared_segments.size()) return std::nullopt;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    bool fits = is_placeholder(declared_segments[i]) ? !segments[i].empty() : declared_segments[i] == segments[i];
    if (!fits) return std::nullopt;
  }
  return build_template(path, std::move(segments), &declared_segments);
}

bool looks_like_json(std::string_view text) noexcept {
  auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && (text[first] == '{' || text[first] == '[');
}

std::string replace_ids(std::string_view body, const std::vector<IdSwap>& swaps, bool json, bool& changed) {
  changed = false;
  std::string out;
  out.reserve(body.size() + 16);
  bool in_string = false;
  for (std::size_t i = 0; i < body.size();) {
    char c = body[i];
    if (json && in_string && c == '\\') { // an escape never starts or ends a token we swap
      out.append(body.substr(i, 2));
      i += 2;
      continue;
    }
    if (json && c == '"') {
      in_string = !in_string;
      out += c;
      ++i;
      continue;
    }
    const IdSwap* hit = nullptr;
    bool starts_token = i == 0 || !is_token_char(body[i - 1]);
    if (starts_token && i >= 2 && body[i - 1] == '.' && is_digit(body[i - 2])) starts_token = false;
    if (starts_token) {
      for (const auto& swap : swaps) {
        const auto& from = swap.first;
        if (from.empty() || body.compare(i, from.size(), from) != 0) continue;
        auto end = i + from.size();
        bool boundary = end == body.size() || !is_token_char(body[end]);
        // "42.5" is a different number, but "/users/42.json" still names user 42.
        if (boundary && end + 1 < body.size() && body[end] == '.' && is_digit(body[end + 1])) boundary = false;
        if (boundary) {
          hit = &swap;
          break;
        }
      }
    }
    if (!hit) {
      out += c;
      ++i;
      continue;
    }
    const auto& to = hit->second;
    if (!json) {
      out += to;
    } else if (in_string) {
      append_json_escaped(out, to);
    } else if (is_integer(to)) {
      out += to;
    } else {
      out += '"';
      append_json_escaped(out, to);
      out += '"';
    }
    changed = true;
    i += hit->first.size();
  }
  return out;
}

} // namespace gostly::match
