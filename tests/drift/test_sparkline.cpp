#include "drift/sparkline.hpp"

#include <catch2/catch.hpp>

using namespace gostly::drift;

TEST_CASE("drift::sparkline: JSON omits empty days and totals the rest", "[drift]") {
  auto json = sparkline_json("payments", {{"2026-06-12", 0, 2}, {"2026-06-13", 0, 0}, {"2026-06-15", 1, 0}});
  REQUIRE(json["days"].size() == 2);
  CHECK(json["days"][0]["total"] == 2);
  CHECK(json["days"][1]["day"] == "2026-06-15");
  CHECK(json["service_id"] == "payments");
}

TEST_CASE("drift::sparkline: the bar line has one cell per day and peaks on the busiest day", "[drift]") {
  auto now = std::chrono::system_clock::now();
  auto line = render_sparkline({{utc_day(now), 3, 1}, {utc_day(now, 2), 0, 1}}, now);
  // 30 cells of one 3-byte block character each.
  CHECK(line.size() == 30 * 3);
  CHECK(line.substr(29 * 3) == "\u2588");
  CHECK(line.substr(27 * 3, 3) == "\u2584");
  CHECK(line.substr(0, 3) == "\u2581");
  CHECK(render_sparkline({}, now) == [] { std::string s; for (int i = 0; i < 30; ++i) s += "\u2581"; return s; }());
}

TEST_CASE("drift::sparkline: days are UTC dates counted back from now", "[drift]") {
  auto when = std::chrono::system_clock::from_time_t(1781481600); // 2026-06-15T00:00:00Z
  CHECK(utc_day(when) == "2026-06-15");
  CHECK(utc_day(when, 29) == "2026-05-17");
}
