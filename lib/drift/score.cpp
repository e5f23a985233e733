#include "drift/score.hpp"

#include "drift/route.hpp"
#include "store/sql.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace gostly::drift {
namespace {

constexpr double kRecencyWeight = 50;
constexpr double kCoverageWeight = 25;
constexpr double kDriftWeight = 25;
constexpr double kFullCreditHours = 24;
constexpr double kHalfLifeHours = 7 * 24;
constexpr double kOpenEventsForZero = 10;

std::uint64_t count_routes(store::LibraryDb& db, const std::string& service_id, bool learn_only) {
  std::set<std::pair<std::string, std::string>> routes;
  db.for_each_recording(service_id, std::nullopt, learn_only, [&](const record::Interaction& interaction) {
    routes.emplace(interaction.request.method, template_path(interaction.request.uri));
  });
  return routes.size();
}

} // namespace

ScoreParts freshness(const std::optional<util::SystemTime>& last_recorded, std::uint64_t distinct_routes,
                     std::uint64_t open_events, util::SystemTime now) {
  ScoreParts parts;
  if (!last_recorded) return parts;
  double age_hours = std::chrono::duration<double, std::ratio<3600>>(now - *last_recorded).count();
  // A recording stamped slightly in the future (clock skew) is as fresh as one made now.
  double stale_hours = std::max(0.0, age_hours - kFullCreditHours);
  parts.recency = kRecencyWeight * std::pow(0.5, stale_hours / kHalfLifeHours);
  parts.coverage = kCoverageWeight * std::min(1.0, std::log10(static_cast<double>(distinct_routes) + 1));
  parts.open_drift = kDriftWeight * std::max(0.0, 1 - static_cast<double>(open_events) / kOpenEventsForZero);
  parts.score = static_cast<int>(std::lround(parts.recency + parts.coverage + parts.open_drift));
  parts.score = std::clamp(parts.score, 0, 100);
  return parts;
}

nlohmann::json to_json(const FreshnessScore& s) {
  auto round1 = [](double v) { return std::round(v * 10) / 10; };
  return {{"type", "score"},
          {"v", 1},
          {"service_id", s.service_id},
          {"freshness_score", s.parts.score},
          {"last_recorded_at", s.last_recorded_at ? nlohmann::json(*s.last_recorded_at) : nlohmann::json(nullptr)},
          {"distinct_routes", s.distinct_routes},
          {"open_drift_event_count", s.open_drift_event_count},
          {"computed_inline", s.computed_inline},
          {"signals",
           {{"recency", round1(s.parts.recency)}, {"coverage", round1(s.parts.coverage)}, {"open_drift", round1(s.parts.open_drift)}}}};
}

FreshnessScore compute_score(EventStore& events, const std::string& service_id, util::SystemTime now,
                             const DriftSettings& settings, bool force_inline) {
  store::LibraryDb& db = events.db();
  FreshnessScore out;
  out.service_id = service_id;
  out.open_drift_event_count = events.open_count(service_id);
  auto row = db.recording_summary(service_id, settings.learn_only);
  if (row.recordings == 0 || !row.last_recorded_at)
    return out; // never recorded: 0 and last_recorded_at null, whatever else is in the store
  out.last_recorded_at = row.last_recorded_at;

  bool cached = false;
  // The cache holds LEARN-only counts; counting curated rows as well is always done inline.
  if (!force_inline && settings.learn_only) {
    store::sql::Statement select(db.handle(),
        "SELECT distinct_routes FROM drift_score_cache WHERE service_id = ? AND recordings = ? AND last_recorded_at IS NOT DISTINCT FROM ?");
    select.bind(1, service_id).bind(2, static_cast<std::int64_t>(row.recordings)).bind_optional(3, row.last_recorded_at);
    if (select.step()) {
      out.distinct_routes = static_cast<std::uint64_t>(select.integer(0));
      cached = true;
    }
  }
  if (!cached) out.distinct_routes = count_routes(db, service_id, settings.learn_only);
  if (!cached && settings.learn_only) {
    store::sql::Statement upsert(db.handle(),
        "INSERT INTO drift_score_cache(service_id, recordings, last_recorded_at, distinct_routes, computed_at) "
        "VALUES (?,?,?,?,?) ON CONFLICT(service_id) DO UPDATE SET recordings = excluded.recordings, "
        "last_recorded_at = excluded.last_recorded_at, distinct_routes = excluded.distinct_routes, "
        "computed_at = excluded.computed_at");
    upsert.bind(1, service_id).bind(2, static_cast<std::int64_t>(row.recordings)).bind_optional(3, row.last_recorded_at)
        .bind(4, static_cast<std::int64_t>(out.distinct_routes)).bind(5, util::format_iso8601(now));
    upsert.run();
  }
  out.computed_inline = !cached;
  out.parts = freshness(util::parse_iso8601(*row.last_recorded_at), out.distinct_routes, out.open_drift_event_count, now);
  return out;
}

} // namespace gostly::drift
