#pragma once
// The 30-day trend of a service's drift events: per-day counts by severity (empty days omitted
// in JSON, as the dashboard pads them) and a one-line terminal rendering with block characters.
#include "drift/events.hpp"
#include "util/time.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace gostly::drift {

inline constexpr int kSparklineDays = 30;

/// `YYYY-MM-DD` (UTC) of `when` minus `days_back` days.
std::string utc_day(util::SystemTime when, int days_back = 0);

/// `{"type":"sparkline","v":1,"service_id":...,"days":[{"day","major","minor","total"}...]}`.
nlohmann::json sparkline_json(const std::string& service_id, const std::vector<DayCount>& days);

/// `kSparklineDays` characters, oldest first, ending on the day of `now`: `▁` for a day without
/// events, `▂`..`█` scaled to the busiest day.
std::string render_sparkline(const std::vector<DayCount>& days, util::SystemTime now);

/// The counts of the last kSparklineDays days for `service_id`.
std::vector<DayCount> recent_days(EventStore& events, const std::string& service_id, util::SystemTime now);

} // namespace gostly::drift
