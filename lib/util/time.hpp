#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gostly::util {

using SystemTime = std::chrono::system_clock::time_point;

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-22T17:50:01.123Z`.
std::string format_iso8601(SystemTime when);
std::string now_iso8601();

/// Parses RFC 3339 / ISO 8601 date-times (`Z` or `±hh:mm` offsets, optional fraction);
/// nullopt when `text` is not one.
std::optional<SystemTime> parse_iso8601(std::string_view text);

/// A random identifier with `prefix`, e.g. `sess-20261122T175001-3f9a1c2b` when `with_time`.
std::string random_id(std::string_view prefix, bool with_time = false);

} // namespace gostly::util
