#pragma once
// The pieces of the `normalized` tier (tried when `exact` misses): a request with what varies
// per run set aside. Query parameters compare in any order; form, JSON and multipart bodies
// compare as data (a multipart body part by part, whatever its boundary); values of per-run
// formats (uuids, ISO-8601 timestamps, Unix times near the request's time, random nonces)
// compare by format only; and a query parameter a route's recordings show to be a cache-buster
// is ignored. Pure functions; matcher.cpp indexes recordings with them at load and compares on
// an exact miss.
#include "record/interaction.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gostly::match {

/// A per-run format: two values of the same one compare equal.
enum class Volatile : std::uint8_t { none, uuid, timestamp, epoch_seconds, epoch_millis, nonce };

/// How far from the time of a request a Unix time may be and still read as "now" (7 days).
inline constexpr std::int64_t kEpochWindowSeconds = 7 * 86'400;

/// The per-run format of `text` for a request made at Unix time `around`: a UUID, an ISO-8601
/// date-time (with a time of day; a bare date is data), a Unix time in seconds or milliseconds
/// within kEpochWindowSeconds of `around` (util::epoch_near), a nonce (util::looks_nonce).
Volatile volatile_format(std::string_view text, std::int64_t around) noexcept;
/// The same for a JSON scalar: strings as above, integers as Unix times; else none.
Volatile volatile_json_format(const nlohmann::json& value, std::int64_t around) noexcept;

using Pairs = std::vector<std::pair<std::string, std::string>>;

/// `a=1&b=x+y&c` decoded (`+` is a space, `%XX` a byte), stably sorted by name, so parameters
/// compare in any order while repeats of one name keep theirs.
Pairs parse_pairs(std::string_view text);

/// True for names clients use for cache-busters (`_`, `cb`, `_cb`, `cachebuster`, `nocache`,
/// ...), compared case-insensitively.
bool is_cache_buster_name(std::string_view name) noexcept;

/// Bodies larger than this are compared as bytes, not parsed (1 MiB).
inline constexpr std::size_t kMaxNormalizedBody = std::size_t{1} << 20;
/// Multipart parts beyond this many are compared as bytes with the rest of the body.
inline constexpr std::size_t kMaxMultipartParts = 256;

struct Part {
  std::string name;
  std::string filename;
  std::string content_type;
  std::string content;
  bool has_filename = false;
};

/// A request as the normalized tier compares it.
struct Normalized {
  enum class Body : std::uint8_t { none, json, form, multipart, bytes };
  Pairs query;
  Body body = Body::none;
  nlohmann::json json;          // Body::json
  Pairs form;                   // Body::form
  std::vector<Part> parts;      // Body::multipart
  std::string bytes;            // Body::bytes: the body as exact compares it (canonical_body)
  std::int64_t around = 0;      // Unix time the request was made (recorded_at, or now)
};

/// Parts of the multipart body `body` whose delimiter is `boundary`; false when it does not
/// parse (no closing delimiter, more than kMaxMultipartParts parts).
bool parse_multipart(std::string_view body, std::string_view boundary, std::vector<Part>& parts);

/// `request` normalized; `around` is the Unix time it was made. A body is read as JSON when it
/// parses as an object or array, as a form when Content-Type says urlencoded, as multipart when
/// Content-Type says multipart with a boundary it parses by; anything else, or anything larger
/// than kMaxNormalizedBody, as bytes.
Normalized normalize(const record::Request& request, std::string_view uri, std::int64_t around);

/// How far a request is from a recording: `hard` differences rule the recording out; `soft`
/// ones (a per-run value, an ignored parameter) only make it less close. `reason` names the
/// first hard difference ("body field `amount` differs: 12 vs recorded 10").
struct Distance {
  std::size_t hard = 0;
  std::size_t soft = 0;
  std::string reason;
};

/// Compares the request `wanted` with the recording `recorded` of the same method and path.
/// `ignored` (sorted) are query parameter names that never count as hard differences on this
/// route.
Distance distance(const Normalized& recorded, const Normalized& wanted, const std::vector<std::string>& ignored);

/// The query parameter names to ignore on a route, given its recordings (sorted): cache-buster
/// names, names with a value of a per-run format, and names seen at least twice whose values
/// never repeat and look like tokens (six or more characters with a digit: `cb=8f3a91`, not
/// `page=2`).
std::vector<std::string> ignored_parameters(const std::vector<const Normalized*>& recordings);

/// A string equal for two recordings exactly when they compare equal with only soft
/// differences for a request like them: volatile values become their format, ignored
/// parameters are left out. Recordings that share it replay in recorded order.
std::string signature(const Normalized& recording, const std::vector<std::string>& ignored);

} // namespace gostly::match
