#pragma once
// Byte-level encodings used by the record format: base64 for binary bodies, UTF-8 validation to
// decide between `body` and `body_b64`.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gostly::util {

/// Standard base64 (RFC 4648, with padding) of `bytes`.
std::string base64_encode(std::string_view bytes);

/// Decodes standard base64 in `text` (padding optional, whitespace ignored); nullopt when invalid.
std::optional<std::string> base64_decode(std::string_view text);

/// True when `bytes` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view bytes) noexcept;

/// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

/// ASCII lower-casing, for case-insensitive header names.
std::string to_lower(std::string_view text);

/// The items of a comma-separated list (`REDACT_HEADERS`, `NO_PROXY`), spaces and tabs around
/// each trimmed, empty ones dropped; views into `list`.
std::vector<std::string_view> split_list(std::string_view list);

/// `%XX` escapes decoded; a malformed escape is kept as written. With `plus_is_space` a `+` is a
/// space, as in application/x-www-form-urlencoded bodies.
std::string percent_decode(std::string_view text, bool plus_is_space = false);

/// Case-insensitive ASCII comparison of two strings of the same length.
bool iequals_same_size(std::string_view a, std::string_view b) noexcept;
/// Case-insensitive ASCII comparison. Header lookups compare many names of other lengths, so the
/// length check is inline and only equal lengths pay for a call.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && iequals_same_size(a, b);
}

} // namespace gostly::util
