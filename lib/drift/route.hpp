#pragma once
// Route templating shared by the fingerprints: two requests belong to the same route when their
// paths differ only in identifier segments, so `/users/42` and `/users/7` are both `/users/{id}`.
#include "util/string_format.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace gostly::drift {

using util::StringFormat;

/// True when path segment `segment` looks like an identifier, by the same rule as the smart_swap
/// tier (match::is_id_segment): integers, UUIDs, long hex, prefixed tokens such as `ch_3Mtw...`.
bool is_identifier_segment(std::string_view segment) noexcept;

/// True for segments that are data by their form even when smart_swap's id test says no: dates
/// (`2026-06-15`), emails, negative integers (`-1`), short hex with a digit and a letter
/// (`0f6328e`, 6 to 11 characters), SKU-like codes (`SKU-12345`, `AB_9981`: letters and a run of
/// three or more digits joined by `-` or `_`).
bool is_data_segment(std::string_view segment) noexcept;
/// The same test when classify_string(segment) is already known (hot path: object keys).
bool is_data_segment(std::string_view segment, StringFormat format) noexcept;

/// `path` (query already removed or not; it is dropped) with identifier segments replaced by
/// `{id}`: `/users/42/posts/9?x=1` -> `/users/{id}/posts/{id}`. An empty path becomes `/`.
std::string template_path(std::string_view uri);

class SessionFingerprint;

/// Learns parameters from the traffic of both sessions and merges the routes they fold: a path
/// position under the same prefix with at least kLearnMinValues distinct literal values, at least
/// half of which appear in only one of the two sessions (concrete slugs, names, codes change
/// between recordings; endpoint names do not), or with kLearnManyValues values whatever their
/// spread, is a parameter `{id}`. So `/products/red-wool-hat` and `/products/blue-linen-sock`
/// are one route, not a removed route plus an added one.
void learn_route_templates(SessionFingerprint& baseline, SessionFingerprint& current);
inline constexpr std::size_t kLearnMinValues = 4;
/// The rule of learn_route_templates over plain routes: `routes` maps each templated route to the
/// sessions it was seen in (1 baseline, 2 current, 3 both; a single recording passes 3 for every
/// route, so only the kLearnManyValues rule can apply). Returns the routes that a learned parameter
/// renames, old -> new (`/products/red-wool-hat` -> `/products/{id}`).
std::map<std::string, std::string> learn_templates(const std::map<std::string, unsigned>& routes);
inline constexpr std::size_t kLearnManyValues = 64;

} // namespace gostly::drift
