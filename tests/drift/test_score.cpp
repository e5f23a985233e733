#include "drift/score.hpp"

#include <catch2/catch.hpp>

using namespace gostly::drift;
using namespace std::chrono;

namespace {
const auto now = system_clock::now();
}

TEST_CASE("drift::score: a service never recorded scores 0", "[drift]") {
  auto parts = freshness(std::nullopt, 50, 0, now);
  CHECK(parts.score == 0);
  FreshnessScore s;
  s.service_id = "x";
  CHECK(to_json(s)["last_recorded_at"].is_null());
  CHECK(to_json(s)["type"] == "score");
}

TEST_CASE("drift::score: recency is full for 24 hours and halves every 7 days after", "[drift]") {
  CHECK(freshness(now - hours(23), 0, 0, now).recency == Approx(50));
  CHECK(freshness(now - hours(24), 0, 0, now).recency == Approx(50));
  CHECK(freshness(now - hours(24 + 7 * 24), 0, 0, now).recency == Approx(25));
  CHECK(freshness(now - hours(24 + 14 * 24), 0, 0, now).recency == Approx(12.5));
  CHECK(freshness(now + hours(2), 0, 0, now).recency == Approx(50)); // clock skew
}

TEST_CASE("drift::score: coverage is log10(routes + 1), full from nine routes", "[drift]") {
  CHECK(freshness(now, 0, 0, now).coverage == Approx(0));
  CHECK(freshness(now, 1, 0, now).coverage == Approx(25 * 0.30103).epsilon(0.001));
  CHECK(freshness(now, 9, 0, now).coverage == Approx(25));
  CHECK(freshness(now, 500, 0, now).coverage == Approx(25));
}

TEST_CASE("drift::score: open drift drags the score to zero at ten events", "[drift]") {
  CHECK(freshness(now, 9, 0, now).open_drift == Approx(25));
  CHECK(freshness(now, 9, 5, now).open_drift == Approx(12.5));
  CHECK(freshness(now, 9, 10, now).open_drift == Approx(0));
  CHECK(freshness(now, 9, 40, now).open_drift == Approx(0));
  CHECK(freshness(now, 9, 0, now).score == 100);
  CHECK(freshness(now, 9, 10, now).score == 75);
  CHECK(freshness(now, 0, 0, now).score == 75);
}
