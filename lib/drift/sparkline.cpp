#include "drift/sparkline.hpp"

#include <algorithm>
#include <ctime>
#include <map>

namespace gostly::drift {

std::string utc_day(util::SystemTime when, int days_back) {
  std::time_t t = std::chrono::system_clock::to_time_t(when - std::chrono::hours(24) * days_back);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d", &tm);
  return buffer;
}

nlohmann::json sparkline_json(const std::string& service_id, const std::vector<DayCount>& days) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : days)
    if (d.major + d.minor > 0)
      list.push_back({{"day", d.day}, {"major", d.major}, {"minor", d.minor}, {"total", d.major + d.minor}});
  return {{"type", "sparkline"}, {"v", 1}, {"service_id", service_id}, {"days", list}};
}

std::string render_sparkline(const std::vector<DayCount>& days, util::SystemTime now) {
  static const char* const bars[] = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
  std::map<std::string, std::uint64_t> totals;
  std::uint64_t busiest = 0;
  for (const auto& d : days) {
    totals[d.day] = d.major + d.minor;
    busiest = std::max(busiest, d.major + d.minor);
  }
  std::string out;
  for (int back = kSparklineDays - 1; back >= 0; --back) {
    auto it = totals.find(utc_day(now, back));
    std::uint64_t total = it == totals.end() ? 0 : it->second;
    if (total == 0) {
      out += bars[0];
    } else {
      // Any event at all shows at least the second step, so a single event is never invisible.
      std::uint64_t level = 1 + (total * 6 + busiest - 1) / busiest;
      out += bars[std::min<std::uint64_t>(level, 7)];
    }
  }
  return out;
}

std::vector<DayCount> recent_days(EventStore& events, const std::string& service_id, util::SystemTime now) {
  return events.per_day(service_id, utc_day(now, kSparklineDays - 1));
}

} // namespace gostly::drift
