// Drift events shared by a team (issue 12), on either engine ([engines]: plain runs use SQLite,
// ctest's `postgres: test_drift` reruns them on PostgreSQL): acknowledgements are append-only by
// the database's own rules, and drift checks from several hosts at once store each event once.
#include "drift/events.hpp"

#include "store/sql.hpp"
#include "util/error.hpp"

#include "../support/engine_store.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <mutex>
#include <thread>

using namespace gostly;
using namespace gostly::drift;

namespace {

DriftEvent finding(int n, const std::string& current = "sess-b") {
  DriftEvent e;
  e.service_id = "payments";
  e.route = "/route/" + std::to_string(n);
  e.method = "GET";
  e.baseline_session_id = "sess-a";
  e.current_session_id = current;
  e.change_type = "field_removed";
  e.severity = n % 3 == 0 ? Severity::major : Severity::minor;
  e.diff = nlohmann::json::array({{{"signal", "field_removed"}, {"field", "f" + std::to_string(n)}}});
  e.detected_at = "2026-06-15T10:00:00.000Z";
  return e;
}

} // namespace

TEST_CASE("drift::EventStore: the database refuses to change or remove acknowledgements", "[drift][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  EventStore events(db);
  auto id = events.record({finding(1)})[0].event.id;
  events.acknowledge(id, std::string("ana"), std::string("JIRA-1234"), "2026-06-15T11:00:00.000Z");
  // Straight SQL on the store's own connection, bypassing EventStore: the rule is the database's.
  for (const char* sql : {"UPDATE drift_acknowledgements SET user_id = 'mallory'",
                          "UPDATE drift_acknowledgements SET reason = NULL WHERE event_id = 1",
                          "DELETE FROM drift_acknowledgements", "DELETE FROM drift_acknowledgements WHERE id = 1"}) {
    INFO(sql);
    CHECK_THROWS_WITH(store::sql::exec(db.handle(), sql), Catch::Contains("append-only"));
  }
  if (fresh.postgres()) { // SQLite has no TRUNCATE (its DELETE without WHERE runs the trigger above)
    CHECK_THROWS_WITH(store::sql::exec(db.handle(), "TRUNCATE drift_acknowledgements"), Catch::Contains("append-only"));
    CHECK_THROWS_WITH(store::sql::exec(db.handle(), "TRUNCATE drift_acknowledgements CASCADE"), Catch::Contains("append-only"));
  }
  // Refused inside a transaction too, and the refusal leaves the connection usable.
  {
    store::sql::Transaction transaction(db.handle());
    CHECK_THROWS_AS(store::sql::exec(db.handle(), "DELETE FROM drift_acknowledgements"), Error);
  }
  auto acks = events.acknowledgements(id);
  REQUIRE(acks.size() == 1);
  CHECK(*acks[0].user_id == "ana");
  CHECK(*acks[0].reason == "JIRA-1234");
  // Appending stays allowed.
  events.acknowledge(id, std::string("joe"), std::nullopt, "2026-06-15T12:00:00.000Z");
  CHECK(events.acknowledgements(id).size() == 2);
  CHECK(*events.get(id)->acknowledged_at == "2026-06-15T11:00:00.000Z");
}

TEST_CASE("drift::EventStore: drift checks from several connections at once store each event once", "[drift][engines]") {
  test_support::EngineStore fresh;
  {
    store::LibraryDb db(fresh.location());
    EventStore migrate(db);
  }
  // Four "cron hosts" record the same 30 findings, each in three overlapping checks, at once.
  constexpr int kHosts = 4, kFindings = 30;
  test_support::Failures failures;
  std::mutex mutex;
  std::map<std::int64_t, int> new_by_id; // event id -> how many record() calls called it new
  std::map<std::string, std::set<std::int64_t>> ids_by_route;
  test_support::race(kHosts, failures, [&](int host) {
    store::LibraryDb db(fresh.location());
    EventStore events(db);
    for (int check = 0; check < 3; ++check) {
      std::vector<DriftEvent> batch;
      for (int n = (check * 10 + host * 7) % kFindings, k = 0; k < 20; ++k, n = (n + 1) % kFindings)
        batch.push_back(finding(n));
      auto stored = events.record(batch);
      std::lock_guard lock(mutex);
      for (const auto& s : stored) {
        if (s.is_new) ++new_by_id[s.event.id];
        ids_by_route[s.event.route].insert(s.event.id);
      }
    }
  });
  CHECK(failures.none());

  store::LibraryDb db(fresh.location());
  EventStore events(db);
  CHECK(test_support::scalar(db.handle(), "SELECT COUNT(*) FROM drift_events") == kFindings);
  CHECK(events.list(std::string("payments"), false).size() == static_cast<std::size_t>(kFindings));
  CHECK(events.total(Severity::major) + events.total(Severity::minor) == static_cast<std::uint64_t>(kFindings));
  // Every host got the same id for a finding, and exactly one of them was told it was new.
  CHECK(ids_by_route.size() == static_cast<std::size_t>(kFindings));
  for (const auto& [route, ids] : ids_by_route) {
    INFO(route);
    CHECK(ids.size() == 1);
  }
  CHECK(new_by_id.size() == static_cast<std::size_t>(kFindings));
  for (const auto& [id, times] : new_by_id) {
    INFO("event " << id);
    CHECK(times == 1);
  }
}

TEST_CASE("drift::EventStore: connections creating the drift tables at once all succeed", "[drift][engines]") {
  test_support::EngineStore fresh;
  { store::LibraryDb create(fresh.location()); }
  // A writer holds the store while the connections open it: each finds no drift tables and
  // queues to create them; those behind the first must find them made.
  auto holder = fresh.location().connect();
  holder->begin(store::sql::Lock::immediate);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    holder->rollback();
  });
  constexpr int kConnections = 4;
  test_support::Failures failures;
  std::atomic<int> recorded{0};
  test_support::race(kConnections, failures, [&](int) {
    store::LibraryDb db(fresh.location());
    EventStore events(db);
    if (db.domain_version("drift") == 2 && events.record({finding(1)}).size() == 1) ++recorded;
  });
  release.join();
  CHECK(failures.none());
  CHECK(recorded == kConnections);
  store::LibraryDb db(fresh.location());
  CHECK(test_support::scalar(db.handle(), "SELECT COUNT(*) FROM drift_events") == 1);
}
