#pragma once
// The 0-100 freshness score of a service: recency 50 (full within 24 h of the last recording,
// halving every 7 days after that), coverage 25 (log10(distinct routes + 1), capped at 1) and
// open drift 25 (full with no open events, zero at 10 or more).
#include "drift/events.hpp"
#include "drift/settings.hpp"
#include "util/time.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace gostly::drift {

struct ScoreParts {
  double recency = 0;    // 0..50
  double coverage = 0;   // 0..25
  double open_drift = 0; // 0..25
  int score = 0;         // rounded sum; 0 when never recorded
};

/// The formula alone: `last_recorded` nullopt means never recorded (score 0).
ScoreParts freshness(const std::optional<util::SystemTime>& last_recorded, std::uint64_t distinct_routes,
                     std::uint64_t open_events, util::SystemTime now);

struct FreshnessScore {
  std::string service_id;
  ScoreParts parts;
  std::optional<std::string> last_recorded_at;
  std::uint64_t distinct_routes = 0;
  std::uint64_t open_drift_event_count = 0;
  bool computed_inline = true; // false when distinct_routes came from drift_score_cache
};

/// The `"type":"score"` record.
nlohmann::json to_json(const FreshnessScore& score);

/// Scores `service_id` from the store. Only upstream observations are recordings: with
/// `settings.learn_only` (the default) recency and coverage come from LEARN rows, so a service
/// that only has seeded or hand-written mocks is "never recorded" (0, last_recorded_at null).
/// Counting distinct routes reads every recording, so the count is cached in drift_score_cache
/// and reused while the service's recording count and last recorded_at are unchanged
/// (computed_inline false); `force_inline`, or counting curated rows too, ignores the cache.
FreshnessScore compute_score(EventStore& events, const std::string& service_id, util::SystemTime now,
                             const DriftSettings& settings, bool force_inline = false);

} // namespace gostly::drift
