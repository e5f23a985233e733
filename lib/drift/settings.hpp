#pragma once
// The drift detector's environment: GOSTLY_DRIFT_MIN_BEHAVIORAL_SAMPLES (default 10) and
// GOSTLY_DRIFT_LEARN_MODE_ONLY (default true: only rows recorded in LEARN mode count).
#include <cstdint>
#include <optional>
#include <string_view>

namespace gostly::drift {

struct DriftSettings {
  std::uint64_t min_behavioral_samples = 10;
  bool learn_only = true;

  /// Reads the environment; throws UsageError naming the variable when a value is malformed.
  static DriftSettings from_environment();
};

/// true/false, 1/0, yes/no, on/off (any case); nullopt otherwise.
std::optional<bool> parse_bool(std::string_view text) noexcept;

} // namespace gostly::drift
