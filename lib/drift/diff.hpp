#pragma once
// Comparing two session fingerprints: which signals fired on which route, and how bad it is.
#include "drift/fingerprint.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gostly::drift {

enum class Severity : std::uint8_t { minor, major };
std::string_view to_string(Severity severity) noexcept;

/// One signal that fired. `kind` is field_removed, field_added, type_changed, format_changed,
/// cardinality_changed, body_type_changed, status_changed, status_distribution_changed,
/// empty_rate_changed, route_removed or route_added; `field` the path ("" for route-level
/// signals); `baseline`/`current` value-free descriptions (a type, a bucket, a rate).
struct Signal {
  std::string kind;
  std::string field;
  Severity severity = Severity::minor;
  nlohmann::json baseline;
  nlohmann::json current;
};

/// A drifted route: its signals, the headline `change_type` (the signals' kind, or `mixed` when
/// several kinds fired) and the maximum severity.
struct RouteDrift {
  RouteKey key;
  std::string change_type;
  Severity severity = Severity::minor;
  std::vector<Signal> signals;
  nlohmann::json limits; // null, or what GOSTLY_DRIFT_MAX_FIELDS / _MAX_DEPTH cut on either side
};

struct DiffOptions {
  /// Status-family and empty-rate signals need this many samples on each side.
  std::uint64_t min_behavioral_samples = 10;
};

/// The drifted routes between `baseline` and `current`, in route order. The severity rules:
/// major for a removed field, a type change of a required field (present whenever its parent
/// was), a body that stopped being an object, a status crossing families, a broken stable string
/// format, a cardinality move of two or more buckets, a rising 5xx share, a route gone; minor for
/// an added field, a type change of an optional field, an in-family status change, a one-bucket
/// move, another status-share or empty-rate shift, a new route.
std::vector<RouteDrift> diff(const SessionFingerprint& baseline, const SessionFingerprint& current,
                             const DiffOptions& options);

/// `change_type` for a list of signals: the common kind, or `mixed`.
std::string change_type_of(const std::vector<Signal>& signals);

nlohmann::json to_json(const Signal& signal);
nlohmann::json signals_to_json(const std::vector<Signal>& signals);

} // namespace gostly::drift
