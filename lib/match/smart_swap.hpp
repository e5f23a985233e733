#pragma once
// The pieces of the smart_swap tier: deciding which path segments are ids, turning a path into a
// template (`/users/42` -> `/users/{id}`), and swapping a recorded id for the requested one in a
// recorded body. Pure functions; the cascade in matcher.cpp indexes and calls them.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gostly::match {

/// True when the path segment `segment` looks like an identifier rather than a word: an integer,
/// a UUID, a long hex string, a prefixed token such as `ch_3Nx8abc12`, `usr-1234` or `ch_1`, or a
/// long mixed letters-and-digits token. `users`, `v1`, `me`, `2fa`, `api-v2` and `page-2` are not
/// ids. drift's route templates use this same rule (drift::is_identifier_segment).
bool is_id_segment(std::string_view segment) noexcept;

/// The segments of the path `path` (query excluded by the caller), without the leading '/':
/// `/users/42/` gives {"users", "42", ""}. Views into `path`.
std::vector<std::string_view> split_path(std::string_view path);

struct PathTemplate {
  std::string path;                     // "/users/{id}/posts/{id}"
  std::vector<std::string_view> segments; // the original segments, views into the input path
  std::vector<std::size_t> id_positions;  // indexes into `segments` that became {id}
};

/// The template of the path `path`: each id segment replaced by `{id}`. `id_positions` is empty
/// when the path holds no id (such a path has no template worth indexing).
PathTemplate make_template(std::string_view path);

/// The template of `path` under a declared template such as OpenAPI's `/users/{username}`: its
/// `{...}` placeholders become `{id}` whatever the segment looks like, as do id segments standing
/// where it has a literal. nullopt when `path` does not follow it (another segment count, or a
/// literal that differs).
std::optional<PathTemplate> make_template(std::string_view path, std::string_view declared);

/// A recorded id and the id to put in its place.
using IdSwap = std::pair<std::string, std::string>;

/// Replaces each recorded id of `swaps` in `body` by its new id, only where the id stands as a
/// whole token (so swapping 42 leaves `142`, `v42` and `4.2` alone). With `json` set, `body` is
/// scanned as JSON text: inside strings the new id is written JSON-escaped; a bare number
/// becomes the new number, or a quoted string when the new id is not an integer, so the result
/// stays valid JSON and keeps the recorded type where it can. Everything else is kept byte for
/// byte. Returns the rewritten text; `changed` tells whether anything was replaced.
std::string replace_ids(std::string_view body, const std::vector<IdSwap>& swaps, bool json, bool& changed);

/// True when `text` starts (after whitespace) like a JSON object or array.
bool looks_like_json(std::string_view text) noexcept;

} // namespace gostly::match
