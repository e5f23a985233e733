#pragma once
// JSON <-> Interaction. Decoding validates every field it knows and names the dotted path of
// the first bad one; fields it does not know are kept in `extra` and written back unchanged.
#include "record/interaction.hpp"

#include <string>
#include <string_view>

namespace gostly::record {

/// Encodes `interaction` as one compact JSON object (no newline).
std::string encode_line(const Interaction& interaction);
/// Appends the same line to `out` (no newline): lets a caller batch lines without a copy each.
void append_line(std::string& out, const Interaction& interaction);
nlohmann::json to_json(const Interaction& interaction);

/// Thrown by from_json(); `field()` is the dotted path, e.g. `request.headers[2]`.
struct FieldError {
  std::string field;
  std::string reason;
};

/// True when `text` is an RFC 9110 token (a method or a header name): 1+ of
/// ALPHA / DIGIT / "!#$%&'*+-.^_`|~".
bool is_token(std::string_view text) noexcept;
/// True when `text` can be a header value or reason phrase on the wire: no CR, LF or NUL (the
/// bytes that end a field or a head), so a stored value can never add headers or a response.
bool is_field_text(std::string_view text) noexcept;

/// Throws FieldError naming the first part of `interaction` that cannot be written into an
/// HTTP/1.1 head as it is: a method or header name that is not a token, a CR/LF/NUL in a header
/// value, the reason phrase or the request URI. Every input path calls it (JSONL, seeds,
/// bundles), so a record that would split a response never reaches the library.
void check_wire_safe(const Interaction& interaction);

/// Most headers a record's request or response may carry: GOSTLY_MAX_HEADERS, default 1000.
std::size_t max_headers();

/// Decodes an interaction object. Throws FieldError for a missing or mistyped field, a value
/// outside its range (`v` 1..2^31-1, `response.status` 100-999, `duration_ms` finite and >= 0,
/// `recorded_at` an RFC 3339 date-time), more than max_headers() headers, or anything
/// check_wire_safe() refuses: every reader of records (JSONL, bundles, library.db) goes
/// through here, so no input path can skip a check.
/// Records whose `v` is newer than kRecordVersion are read as far as they are understood.
Interaction from_json(const nlohmann::json& object);

} // namespace gostly::record
