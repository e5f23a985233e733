#pragma once
// What kind of value a string is, by its form alone: one notion of "format" for the toolkit.
// Drift fingerprints count these formats per field (a field that turns from uuid to text is
// drift), and the normalized match tier compares values of per-run formats (uuids, timestamps,
// epoch times, nonces) by format only, since a client makes a fresh one on every run.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gostly::util {

/// iso_datetime has a time and a zone (`2026-01-01T00:00:00Z`); datetime_local a time and no
/// zone (`2026-01-01 00:00:00`); date none (`2026-01-01`): a move between them is a coarser
/// (or finer) timestamp, which consumers parsing the old form trip over.
enum class StringFormat : std::uint8_t { uuid, iso_datetime, url, email, ipv4, phone, numeric_string, text,
                                         datetime_local, date };
inline constexpr std::size_t kStringFormats = 10;
/// True for the three timestamp formats.
bool is_time_format(StringFormat format) noexcept;
std::string_view to_string(StringFormat format) noexcept;

/// The format of one string value; `text` for anything that is none of the named formats.
StringFormat classify_string(std::string_view value) noexcept;

/// True for a UUID in canonical 8-4-4-4-12 hex form (any version, either case).
bool looks_uuid(std::string_view value) noexcept;

enum class EpochUnit : std::uint8_t { none, seconds, millis };
/// Whether the decimal integer `value` reads as a Unix time within `window_seconds` of the Unix
/// time `around_seconds`: 10 digits as seconds, 13 as milliseconds (what `Date.now()`, `time()`
/// and Postman's `{{$timestamp}}` give); `none` otherwise, so a count or an amount is not one.
EpochUnit epoch_near(std::int64_t value, std::int64_t around_seconds, std::int64_t window_seconds) noexcept;

/// True for a random-looking token a client makes per run (a nonce, a request signature, a
/// random cache-buster): 16 or more hex digits mixing digits and letters, or 20 or more
/// characters of base64 or base64url (padding allowed) mixing upper case, lower case and
/// digits. Words, numbers and slugs are not: they lack the mix.
bool looks_nonce(std::string_view value) noexcept;

} // namespace gostly::util
