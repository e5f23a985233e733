#include "drift/events.hpp"

#include "helpers.hpp"
#include "store/sqlite.hpp"
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

TEST_CASE("drift::EventStore: recording the same finding twice keeps one event and says it is old", "[drift]") {
  testing::TempDir dir;
  store::LibraryDb db(dir.path / "library.db");
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
  // Another current session is another key.
  CHECK(store.record({event("/users/{id}", Severity::major, "sess-c")})[0].is_new);
}

TEST_CASE("drift::EventStore: reopening the database keeps events and does not re-migrate", "[drift]") {
  testing::TempDir dir;
  {
    store::LibraryDb db(dir.path / "library.db");
    EventStore store(db);
    store.record({event("/a", Severity::minor)});
  }
  store::LibraryDb db(dir.path / "library.db");
  EventStore store(db);
  CHECK(db.domain_version("drift") == 1);
  CHECK(store.list(std::nullopt, false).size() == 1);
}

TEST_CASE("drift::EventStore: acknowledgements append rows and keep the first timestamp", "[drift]") {
  testing::TempDir dir;
  store::LibraryDb db(dir.path / "library.db");
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

TEST_CASE("drift::EventStore: acknowledgement rows cannot be changed or deleted", "[drift]") {
  testing::TempDir dir;
  store::LibraryDb db(dir.path / "library.db");
  EventStore store(db);
  auto id = store.record({event("/a", Severity::major)})[0].event.id;
  store.acknowledge(id, std::nullopt, std::nullopt, "2026-06-15T11:00:00.000Z");
  CHECK_THROWS_AS(store::sql::exec(db.handle(), "UPDATE drift_acknowledgements SET user_id = 'mallory'"), Error);
  CHECK_THROWS_AS(store::sql::exec(db.handle(), "DELETE FROM drift_acknowledgements"), Error);
  CHECK(store.acknowledgements(id).size() == 1);
}

TEST_CASE("drift::EventStore: acknowledging an unknown event is a not-found error", "[drift]") {
  testing::TempDir dir;
  store::LibraryDb db(dir.path / "library.db");
  EventStore store(db);
  CHECK_THROWS_AS(store.acknowledge(99, std::nullopt, std::nullopt, "2026-06-15T11:00:00.000Z"), NotFoundError);
}

TEST_CASE("drift::EventStore: events list newest first and count per day by severity", "[drift]") {
  testing::TempDir dir;
  store::LibraryDb db(dir.path / "library.db");
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
