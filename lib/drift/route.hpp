#pragma once
// Route templating shared by the fingerprints: two requests belong to the same route when their
// paths differ only in identifier segments, so `/users/42` and `/users/7` are both `/users/{id}`.
#include <string>
#include <string_view>

namespace gostly::drift {

/// True when path segment `segment` looks like an identifier, by the same rule as the smart_swap
/// tier (match::is_id_segment): integers, UUIDs, long hex, prefixed tokens such as `ch_3Mtw...`.
bool is_identifier_segment(std::string_view segment) noexcept;

/// `path` (query already removed or not; it is dropped) with identifier segments replaced by
/// `{id}`: `/users/42/posts/9?x=1` -> `/users/{id}/posts/{id}`. An empty path becomes `/`.
std::string template_path(std::string_view uri);

} // namespace gostly::drift
