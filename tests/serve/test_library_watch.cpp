// The pure logic of the library watcher (serve/library_watch.hpp): the reconnect backoff, the
// coalescing of notification bursts, the environment settings and the /metrics lines.
#include "serve/library_watch.hpp"
#include "util/error.hpp"

#include "../support/silent_server.hpp"

#include "../support/scoped_env.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <poll.h>
#include <thread>

using namespace gostly;
using namespace gostly::serve;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST_CASE("reconnect backoff doubles from the first delay up to the cap, and starts over after a success", "[watch]") {
  Backoff backoff(250ms, 30000ms);
  std::vector<std::int64_t> delays;
  for (int i = 0; i < 10; ++i) delays.push_back(backoff.next().count());
  CHECK(delays == std::vector<std::int64_t>{250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000});
  backoff.reset();
  CHECK(backoff.next() == 250ms);
  Backoff capped(800ms, 500ms); // a first delay above the cap waits the cap
  CHECK(capped.next() == 500ms);
}

TEST_CASE("notifications within the window coalesce into one sorted, distinct batch", "[watch]") {
  Coalescer pending(50ms);
  WatchClock::time_point t0{};
  CHECK_FALSE(pending.deadline());
  CHECK_FALSE(pending.due(t0 + 1h));
  pending.add("payments", t0 + 1s);
  pending.add("orders", t0 + 1s + 20ms);
  pending.add("payments", t0 + 1s + 40ms);
  REQUIRE(pending.deadline());
  CHECK(*pending.deadline() == t0 + 1s + 50ms); // the window runs from the first id, not the last
  CHECK_FALSE(pending.due(t0 + 1s + 49ms));
  CHECK(pending.due(t0 + 1s + 50ms));
  CHECK(pending.take() == std::vector<std::string>{"orders", "payments"});
  CHECK_FALSE(pending.deadline());
  CHECK(pending.take().empty());
  pending.add("orders", t0 + 5s);
  CHECK(*pending.deadline() == t0 + 5s + 50ms); // a new burst opens a new window
}

TEST_CASE("watch settings: defaults per engine, seconds from the environment, bad values named", "[watch]") {
  test_support::ScopedEnv poll("GOSTLY_STORE_POLL_SECONDS", nullptr), first("GOSTLY_STORE_RECONNECT_SECONDS", nullptr),
      max("GOSTLY_STORE_RECONNECT_MAX_SECONDS", nullptr);
  auto pg = WatchSettings::from_environment(store::Engine::postgres);
  CHECK(pg.poll == 5000ms);
  CHECK(pg.reconnect_first == 250ms);
  CHECK(pg.reconnect_max == 30000ms);
  CHECK(WatchSettings::from_environment(store::Engine::sqlite).poll == 1000ms);
  ::setenv("GOSTLY_STORE_POLL_SECONDS", "0.2", 1);
  ::setenv("GOSTLY_STORE_RECONNECT_MAX_SECONDS", "0.1", 1);
  auto tuned = WatchSettings::from_environment(store::Engine::postgres);
  CHECK(tuned.poll == 200ms);
  CHECK(tuned.reconnect_max == 100ms);
  CHECK(tuned.reconnect_first == 100ms); // never above the cap
  for (const char* bad : {"0", "-1", "soon", "5s", "nan", "1e9"}) {
    ::setenv("GOSTLY_STORE_POLL_SECONDS", bad, 1);
    try {
      WatchSettings::from_environment(store::Engine::sqlite);
      FAIL("accepted " << bad);
    } catch (const UsageError& e) {
      CHECK_THAT(e.what(), Catch::Contains("GOSTLY_STORE_POLL_SECONDS") && Catch::Contains(bad));
    }
  }
}

TEST_CASE("store health: the metrics lines and the password-free name", "[watch]") {
  auto location = store::StoreLocation::parse("postgresql://ana:s3cret@db.internal:5432/gostly", "unused.db");
  StoreHealth health(location);
  CHECK_FALSE(health.connected());
  CHECK(health.snapshot().name.find("s3cret") == std::string::npos);
  std::string down = health.prometheus();
  CHECK_THAT(down, Catch::Contains("gostly_store_connected 0\n"));
  CHECK_THAT(down, Catch::Contains("gostly_store_reconnects_total 0\n"));
  CHECK_THAT(down, Catch::Contains("gostly_library_reloads_total{trigger=\"notify\"} 0\n"));
  health.set_connected(true, true);
  health.note_reconnect();
  health.note_reload(ReloadTrigger::notify);
  health.note_reload(ReloadTrigger::notify);
  health.note_reload(ReloadTrigger::control);
  std::string up = health.prometheus();
  CHECK_THAT(up, Catch::Contains("gostly_store_connected 1\n"));
  CHECK_THAT(up, Catch::Contains("gostly_store_reconnects_total 1\n"));
  CHECK_THAT(up, Catch::Contains("gostly_library_reloads_total{trigger=\"notify\"} 2\n"));
  CHECK_THAT(up, Catch::Contains("gostly_library_reloads_total{trigger=\"poll\"} 0\n"));
  CHECK_THAT(up, Catch::Contains("gostly_library_reloads_total{trigger=\"control\"} 1\n"));
  CHECK_FALSE(health.snapshot().last_reload_at.empty());
  CHECK(StoreHealth(store::StoreLocation::sqlite("x/library.db")).connected());
}

TEST_CASE("a PostgreSQL watcher connecting to a host that never answers stops within milliseconds", "[watch]") {
  test_support::SilentServer silent_server; // accepts TCP, never answers
  int silent = silent_server.fd();
  auto location = store::StoreLocation::parse(
      "postgresql://ana:s3cret@127.0.0.1:" + std::to_string(silent_server.port()) + "/gostly", "unused.db");
  StoreHealth health(location);
  std::atomic<int> calls{0};
  ReloadTarget target{[&] { ++calls; return std::string(); },
                      [&](const std::vector<std::string>&, store::LibraryDb*) { ++calls; return true; },
                      [&](store::LibraryDb*) { ++calls; return true; }};
  auto watcher = LibraryWatcher::start(location, health, target, WatchSettings{});
  // Until the watcher's connection is queued, and a moment for libpq to wait for an answer.
  pollfd pending{silent, POLLIN, 0};
  REQUIRE(::poll(&pending, 1, 5000) == 1);
  std::this_thread::sleep_for(100ms);
  auto start = WatchClock::now();
  watcher.reset();
  CHECK(WatchClock::now() - start < 500ms);
  CHECK(calls == 0); // never connected, so nothing was compared or reloaded
  CHECK_FALSE(health.connected());
}
