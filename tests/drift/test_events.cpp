#include "drift/events.hpp"

#include "../support/engine_store.hpp"
#include "helpers.hpp"
#include "store/sql.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace gostly;
using namespace gostly::drift;

namespace {

DriftEvent event(const std::string& route, Severity severity, const std::string& current = "sess-b",
                 const std::string& at = "2026-06-15T10:00:00.000Z") {
  DriftEvent e;
  e.service_id = "payments";
  e.route = route;
  e.method = "GET";
  e.baseline_session_id = "sess-a";
  e.current_session_id = current;
  e.change_type = "field_removed";
  e.severity = severity;
  e.diff = nlohmann::json::array({{{"signal", "field_removed"}, {"field", "name"}}});
  e.detected_at = at;
  return e;
}

} // namespace

TEST_CASE("drift::EventStore: recording the same finding twice keeps one event and says it is old", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  EventStore store(db);
  auto first = store.record({event("/users/{id}", Severity::major), event("/health", Severity::minor)});
  REQUIRE(first.size() == 2);
  CHECK(first[0].is_new);
  CHECK(first[0].event.id > 0);
  auto again = store.record({event("/users/{id}", Severity::major, "sess-b", "2026-06-16T00:00:00.000Z")});
  REQUIRE(again.size() == 1);
  CHECK_FALSE(again[0].is_new);
  CHECK(again[0].event.id == first[0].event.id);
  CHECK(again[0].event.detected_at == "2026-06-15T10:00:00.000Z");
  CHECK(store.list(std::string("payments"), false).size() == 2);
  CHECK(store.total(Severity::major) == 1);
  CHECK(store.total(Severity::minor) == 1);
  // Another current session with another diff is a new event.
  auto other = event("/users/{id}", Severity::major, "sess-c");
  other.diff = nlohmann::json::array({{{"signal", "field_removed"}, {"field", "email"}}});
  CHECK(store.record({other})[0].is_new);
}

TEST_CASE("drift::EventStore: reopening the database keeps events and does not re-migrate", "[drift][engines]") {
  test_support::EngineStore fresh;
  {
    store::LibraryDb db(fresh.location());
    EventStore store(db);
    store.record({event("/a", Severity::minor)});
  }
  store::LibraryDb db(fresh.location());
  EventStore store(db);
  CHECK(db.domain_version("drift") == 2);
  CHECK(store.list(std::nullopt, false).size() == 1);
}

TEST_CASE("drift::EventStore: acknowledgements append rows and keep the first timestamp", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  EventStore store(db);
  auto id = store.record({event("/a", Severity::major)})[0].event.id;
  CHECK(store.open_count("payments") == 1);
  store.acknowledge(id, std::string("jane"), std::string("expected v3 migration"), "2026-06-15T11:00:00.000Z");
  store.acknowledge(id, std::string("joe"), std::nullopt, "2026-06-15T12:00:00.000Z");
  auto acks = store.acknowledgements(id);
  REQUIRE(acks.size() == 2);
  CHECK(*acks[0].user_id == "jane");
  CHECK(*acks[0].reason == "expected v3 migration");
  CHECK(*acks[1].user_id == "joe");
  CHECK_FALSE(acks[1].reason);
  CHECK(*store.get(id)->acknowledged_at == "2026-06-15T11:00:00.000Z");
  CHECK(store.open_count("payments") == 0);
  CHECK(store.list(std::string("payments"), true).empty());
}

TEST_CASE("drift::EventStore: acknowledgement rows cannot be changed or deleted", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  EventStore store(db);
  auto id = store.record({event("/a", Severity::major)})[0].event.id;
  store.acknowledge(id, std::nullopt, std::nullopt, "2026-06-15T11:00:00.000Z");
  CHECK_THROWS_AS(store::sql::exec(db.handle(), "UPDATE drift_acknowledgements SET user_id = 'mallory'"), Error);
  CHECK_THROWS_AS(store::sql::exec(db.handle(), "DELETE FROM drift_acknowledgements"), Error);
  CHECK(store.acknowledgements(id).size() == 1);
}

TEST_CASE("drift::EventStore: acknowledging an unknown event is a not-found error", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  EventStore store(db);
  CHECK_THROWS_AS(store.acknowledge(99, std::nullopt, std::nullopt, "2026-06-15T11:00:00.000Z"), NotFoundError);
}

TEST_CASE("drift::EventStore: events list newest first and count per day by severity", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  EventStore store(db);
  store.record({event("/a", Severity::major, "s1", "2026-06-12T10:00:00.000Z"),
                event("/b", Severity::minor, "s1", "2026-06-12T11:00:00.000Z"),
                event("/c", Severity::minor, "s2", "2026-06-15T09:00:00.000Z"),
                event("/old", Severity::major, "s0", "2026-04-01T09:00:00.000Z")});
  auto list = store.list(std::string("payments"), false);
  REQUIRE(list.size() == 4);
  CHECK(list[0].route == "/c");
  CHECK(list[3].route == "/old");
  auto days = store.per_day("payments", "2026-05-17");
  REQUIRE(days.size() == 2);
  CHECK(days[0].day == "2026-06-12");
  CHECK(days[0].major == 1);
  CHECK(days[0].minor == 1);
  CHECK(days[1].minor == 1);
}

TEST_CASE("drift::EventStore: the same drift found again is a repeat: not new, no score or metric change, inherits the ack", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  EventStore store(db);
  // Four nights, each a new current session against the same baseline, same finding.
  auto night1 = store.record({event("/users/{id}", Severity::major, "sess-n1", "2026-06-15T01:00:00.000Z")});
  REQUIRE(night1[0].is_new);
  auto root = night1[0].event.id;
  CHECK_FALSE(night1[0].event.repeat_of);
  for (const char* night : {"sess-n2", "sess-n3", "sess-n4"}) {
    auto stored = store.record({event("/users/{id}", Severity::major, night, "2026-06-16T01:00:00.000Z")});
    CHECK_FALSE(stored[0].is_new);
    CHECK(stored[0].event.id != root);
    REQUIRE(stored[0].event.repeat_of);
    CHECK(*stored[0].event.repeat_of == root);
  }
  CHECK(store.total(Severity::major) == 1);
  CHECK(store.open_count("payments") == 1);
  CHECK(store.list(std::string("payments"), false).size() == 4);
  CHECK(to_json(*store.get(root + 1))["repeat_of"] == root);
  // Acknowledging the first silences its repeats, past and future.
  store.acknowledge(root, std::string("jane"), std::nullopt, "2026-06-16T09:00:00.000Z");
  CHECK(store.open_count("payments") == 0);
  CHECK(store.list(std::string("payments"), true).empty());
  auto night5 = store.record({event("/users/{id}", Severity::major, "sess-n5", "2026-06-19T01:00:00.000Z")});
  CHECK(*night5[0].event.repeat_of == root);
  CHECK(*night5[0].event.acknowledged_at == "2026-06-16T09:00:00.000Z");
  // A different diff on the same route is new drift.
  auto changed = event("/users/{id}", Severity::major, "sess-n6");
  changed.diff = nlohmann::json::array({{{"signal", "field_removed"}, {"field", "email"}}});
  CHECK(store.record({changed})[0].is_new);
  CHECK(store.open_count("payments") == 1);
}

TEST_CASE("drift::EventStore: a check of the same current session against another baseline is its own event", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  EventStore store(db);
  auto a = store.record({event("/users/{id}", Severity::major, "sess-cur")});
  auto other = event("/users/{id}", Severity::major, "sess-cur");
  other.baseline_session_id = "sess-other";
  other.diff = nlohmann::json::array({{{"signal", "field_added"}, {"field", "tier"}}});
  auto b = store.record({other});
  CHECK(b[0].is_new);
  CHECK(b[0].event.id != a[0].event.id);
  CHECK(b[0].event.baseline_session_id == "sess-other");
  CHECK(b[0].event.diff == other.diff);
}

TEST_CASE("drift::EventStore: a version 1 database migrates to version 2 keeping events and acknowledgements", "[drift]") {
  testing::TempDir dir;
  {
    store::LibraryDb db(dir.path / "library.db");
    store::sql::exec(db.handle(), R"sql(
      CREATE TABLE drift_events(id INTEGER PRIMARY KEY AUTOINCREMENT, service_id TEXT NOT NULL, route TEXT NOT NULL,
        method TEXT NOT NULL, baseline_session_id TEXT NOT NULL, current_session_id TEXT NOT NULL,
        change_type TEXT NOT NULL, severity TEXT NOT NULL CHECK (severity IN ('major', 'minor')), diff TEXT NOT NULL,
        detected_at TEXT NOT NULL, acknowledged_at TEXT, UNIQUE (service_id, route, method, current_session_id));
      CREATE TABLE drift_acknowledgements(id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id INTEGER NOT NULL REFERENCES drift_events(id), user_id TEXT, reason TEXT, acknowledged_at TEXT NOT NULL);
      CREATE TRIGGER drift_acknowledgements_no_delete BEFORE DELETE ON drift_acknowledgements
      BEGIN SELECT RAISE(ABORT, 'drift acknowledgements are append-only'); END;
      CREATE TABLE drift_score_cache(service_id TEXT PRIMARY KEY, recordings INTEGER NOT NULL, last_recorded_at TEXT,
        distinct_routes INTEGER NOT NULL, computed_at TEXT NOT NULL);
      INSERT INTO drift_events VALUES (7, 'payments', '/a', 'GET', 'sess-a', 'sess-b', 'field_removed', 'major',
        '[{"signal":"field_removed","field":"name"}]', '2026-06-15T10:00:00.000Z', '2026-06-15T11:00:00.000Z');
      INSERT INTO drift_acknowledgements VALUES (1, 7, 'jane', NULL, '2026-06-15T11:00:00.000Z');
    )sql");
    db.set_domain_version("drift", 1);
  }
  store::LibraryDb db(dir.path / "library.db");
  EventStore store(db);
  CHECK(db.domain_version("drift") == 2);
  auto kept = store.get(7);
  REQUIRE(kept);
  CHECK(*kept->acknowledged_at == "2026-06-15T11:00:00.000Z");
  CHECK(store.acknowledgements(7).size() == 1);
  // The migrated event is the root of a repeat found later.
  auto again = event("/a", Severity::major, "sess-c");
  again.diff = nlohmann::json::array({{{"signal", "field_removed"}, {"field", "name"}}});
  auto stored = store.record({again});
  CHECK_FALSE(stored[0].is_new);
  CHECK(*stored[0].event.repeat_of == 7);
}
