#include "drift/check.hpp"

#include "drift/api.hpp"
#include "drift/score.hpp"
#include "../support/engine_store.hpp"
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace gostly;
using namespace gostly::drift;

namespace {

std::string user_body(int n, bool v2) {
  nlohmann::json u = {{"id", n}, {"email", "user" + std::to_string(n) + "@example.com"}, {"active", true},
                      {"request_id", util::random_id("") + "-x"}};
  if (v2) {
    u["full_name"] = "user-" + std::to_string(n);
    u["age"] = std::to_string(20 + n);
  } else {
    u["name"] = "user-" + std::to_string(n);
    u["age"] = 20 + n;
  }
  return u.dump();
}

void import_session(store::LibraryDb& db, const std::string& session, bool v2, const std::string& source = "learn") {
  store::LibraryDb::Import import(db);
  for (int n = 1; n <= 12; ++n) {
    auto i = testing::response("GET", "/users/" + std::to_string(n), 200, user_body(n, v2), session);
    i.service_id = "payments";
    i.source = source;
    i.recorded_at = "2026-06-15T10:00:" + std::string(n < 10 ? "0" : "") + std::to_string(n) + ".000Z";
    import.add(i);
    auto h = testing::response("GET", "/health", v2 ? 500 : 200, R"({"status":"ok"})", session);
    h.service_id = "payments";
    h.source = source;
    h.recorded_at = i.recorded_at;
    import.add(h);
  }
  import.commit();
}

} // namespace

TEST_CASE("drift::check: planted changes become events, and a re-check adds none", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  import_session(db, "sess-v1", false);
  import_session(db, "sess-v2", true);
  EventStore events(db);
  auto result = run_check(events, {"payments", "sess-v1", "sess-v2"}, DriftSettings{}, "2026-06-15T11:00:00.000Z");
  REQUIRE(result.events.size() == 2);
  CHECK(result.new_major == 2);
  CHECK(result.events[0].route == "/health");
  CHECK(result.events[0].change_type == "status_changed");
  CHECK(result.events[1].route == "/users/{id}");
  CHECK(result.events[1].change_type == "mixed");
  CHECK(result.events[1].severity == Severity::major);

  auto again = run_check(events, {"payments", "sess-v1", "sess-v2"}, DriftSettings{}, "2026-06-15T12:00:00.000Z");
  CHECK(again.events.size() == 2);
  CHECK(again.new_major + again.new_minor == 0);
  CHECK(again.events[0].id == result.events[0].id);
  CHECK(events.list(std::nullopt, false).size() == 2);
}

TEST_CASE("drift::check: only changed values yield no events", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  import_session(db, "sess-1", false);
  import_session(db, "sess-2", false);
  EventStore events(db);
  auto result = run_check(events, {"payments", "sess-1", "sess-2"}, DriftSettings{}, "2026-06-15T11:00:00.000Z");
  CHECK(result.events.empty());
}

TEST_CASE("drift::check: an unknown session is a clear error", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  import_session(db, "sess-1", false);
  EventStore events(db);
  CHECK_THROWS_AS(run_check(events, {"payments", "sess-1", "sess-nope"}, DriftSettings{}, "t"), UnknownSessionError);
  CHECK_THROWS_WITH(run_check(events, {"payments", "sess-1", "sess-nope"}, DriftSettings{}, "t"),
                    Catch::Contains("unknown current session 'sess-nope'"));
  CHECK_THROWS_AS(run_check(events, {"payments", "../x", "sess-1"}, DriftSettings{}, "t"), UsageError);
}

TEST_CASE("drift::check: curated rows only count when LEARN-only is off", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  import_session(db, "sess-1", false);
  import_session(db, "sess-seeded", true, "openapi");
  EventStore events(db);
  CHECK_THROWS_AS(run_check(events, {"payments", "sess-1", "sess-seeded"}, DriftSettings{}, "t"), UnknownSessionError);
  DriftSettings all;
  all.learn_only = false;
  CHECK(run_check(events, {"payments", "sess-1", "sess-seeded"}, all, "t").events.size() == 2);
}

TEST_CASE("drift::check: the API answers check, events, ack, score, sparkline and metrics", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  import_session(db, "sess-v1", false);
  import_session(db, "sess-v2", true);
  auto body = nlohmann::json{{"service_id", "payments"}, {"baseline_session_id", "sess-v1"}, {"current_session_id", "sess-v2"}};
  auto checked = api::check(db, body, DriftSettings{});
  CHECK(checked["count"] == 2);
  CHECK(checked["new"]["major"] == 2);
  CHECK(api::check(db, body, DriftSettings{})["new"]["major"] == 0);
  CHECK(api::metrics(db)["counters"]["gostly_drift_events_total{severity=\"major\"}"] == 2);
  auto id = checked["events"][0]["id"].get<std::int64_t>();
  auto acked = api::acknowledge(db, id, {{"user_id", "jane"}, {"reason_text", "expected v3 migration"}});
  CHECK(acked["acknowledgements"].size() == 1);
  CHECK(api::events(db, std::string("payments"), true)["count"] == 1);
  auto score = api::freshness_score(db, "payments");
  CHECK(score["open_drift_event_count"] == 1);
  CHECK(score["distinct_routes"] == 2);
  CHECK(score["computed_inline"] == true);
  CHECK(api::freshness_score(db, "payments")["computed_inline"] == false);
  CHECK(api::freshness_score(db, "nobody")["freshness_score"] == 0);
  CHECK(api::freshness_score(db, "nobody")["last_recorded_at"].is_null());
  CHECK(api::sparkline(db, "payments")["days"].size() == 1);
  CHECK(api::prometheus(db).find("gostly_drift_events_total{severity=\"major\"} 2") != std::string::npos);
  CHECK_THROWS_AS(api::event(db, 999), NotFoundError);
  CHECK_THROWS_AS(api::check(db, {{"service_id", "payments"}}, DriftSettings{}), UsageError);
}

TEST_CASE("drift::check: diff_files compares two JSONL files without a store", "[drift]") {
  testing::TempDir dir;
  auto write = [&](const std::string& name, bool v2) {
    std::ofstream out(dir.path / name);
    for (int n = 1; n <= 3; ++n) {
      nlohmann::json line = {{"type", "interaction"}, {"v", 1}, {"session_id", name == "a.jsonl" ? "s-a" : "s-b"},
                             {"request", {{"method", "GET"}, {"uri", "/users/" + std::to_string(n)}}},
                             {"response", {{"status", 200}, {"body", user_body(n, v2)}}}};
      out << line.dump() << "\n";
    }
  };
  write("a.jsonl", false);
  write("b.jsonl", true);
  auto events = diff_files({(dir.path / "a.jsonl").string(), (dir.path / "b.jsonl").string(), ""}, DriftSettings{}, "t");
  REQUIRE(events.size() == 1);
  CHECK(events[0].id == 0);
  CHECK(events[0].baseline_session_id == "s-a");
  CHECK(events[0].current_session_id == "s-b");
  CHECK(events[0].service_id == "default");
  CHECK(diff_files({(dir.path / "a.jsonl").string(), (dir.path / "a.jsonl").string(), ""}, DriftSettings{}, "t").empty());
}

TEST_CASE("drift::score: seeded or hand-written mocks are not recordings", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  import_session(db, "seed-openapi-1", false, "openapi");
  EventStore events(db);
  auto now = *util::parse_iso8601("2026-06-15T12:00:00.000Z");
  auto seeded = compute_score(events, "payments", now, DriftSettings{});
  CHECK(seeded.parts.score == 0);
  CHECK_FALSE(seeded.last_recorded_at);
  CHECK(seeded.distinct_routes == 0);
  DriftSettings all;
  all.learn_only = false;
  auto counted = compute_score(events, "payments", now, all);
  CHECK(counted.last_recorded_at);
  CHECK(counted.distinct_routes == 2);
  CHECK(counted.computed_inline);

  // A LEARN session scores from its own rows; the curated routes do not add coverage.
  import_session(db, "sess-1", false);
  auto learned = compute_score(events, "payments", now, DriftSettings{});
  CHECK(learned.distinct_routes == 2);
  CHECK(*learned.last_recorded_at == "2026-06-15T10:00:12.000Z");
  CHECK(learned.parts.score == 87); // 50 recency (2 h old) + 25 * log10(2 + 1) = 11.9 coverage + 25 open drift
  CHECK(compute_score(events, "payments", now, DriftSettings{}).computed_inline == false);
}
