// What the library store guarantees on either engine (issue 12): a transition is one transaction,
// concurrent writers neither duplicate nor lose rows, migrations run once however many
// connections open a store at once, and a visitor may query the store it is visiting. Every case
// is [engines]: plain runs use SQLite, ctest's `postgres: test_store` reruns them on PostgreSQL.
#include "store/library_db.hpp"
#include "store/location.hpp"
#include "store/sql.hpp"
#include "util/error.hpp"

#include "../support/engine_store.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

using namespace gostly;

namespace {

record::Interaction interaction(int n, const std::string& service = "api", const std::string& session = "s1") {
  record::Interaction in;
  in.id = "int-" + std::to_string(n);
  in.service_id = service;
  in.session_id = session;
  in.recorded_at = "2026-03-01T00:00:00.000Z";
  in.request.method = "GET";
  in.request.uri = "/items/" + std::to_string(n);
  in.response.status = 200;
  in.response.body = "item " + std::to_string(n);
  return in;
}

// Counts the log lines that mention `needle` while alive.
class LogCapture {
public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)), previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::size_t count(const std::string& needle) const {
    std::size_t n = 0;
    for (const auto& line : sink_->last_formatted())
      if (line.find(needle) != std::string::npos) ++n;
    return n;
  }

private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

} // namespace

TEST_CASE("store::LibraryDb: a transition is one transaction: another connection sees all of it or nothing", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb writer(fresh.location());
  store::LibraryDb reader(fresh.location());
  const auto marker = reader.change_marker();
  {
    store::LibraryDb::Import import(writer);
    for (int n = 0; n < 5; ++n) import.add(interaction(n, n % 2 ? "api" : "payments"));
    // Before the commit, the reader sees neither services nor recordings nor mocks.
    CHECK(reader.services().empty());
    CHECK(reader.sessions("api").empty());
    CHECK(reader.library_size("api") == 0);
    CHECK(reader.change_marker() == marker);
    CHECK(test_support::scalar(reader.handle(), "SELECT COUNT(*) FROM recordings") == 0);
    auto stats = import.commit();
    CHECK(stats.added == 5);
  }
  CHECK(reader.services().size() == 2);
  CHECK(reader.library_size("api") == 2);
  CHECK(reader.library_size("payments") == 3);
  CHECK(reader.change_marker() != marker);

  // An import destroyed without commit (a failed transition) leaves nothing, and the connection
  // it ran on works on.
  const auto committed = reader.change_marker();
  {
    store::LibraryDb::Import import(writer);
    for (int n = 10; n < 15; ++n) import.add(interaction(n, "orders"));
  }
  CHECK_FALSE(reader.service("orders"));
  CHECK(test_support::scalar(reader.handle(), "SELECT COUNT(*) FROM recordings") == 5);
  CHECK(reader.change_marker() == committed);
  {
    store::LibraryDb::Import import(writer);
    import.add(interaction(10, "orders"));
    CHECK(import.commit().added == 1);
  }
  CHECK(reader.library_size("orders") == 1);
}

TEST_CASE("store::LibraryDb: two imports at once with overlapping ids neither duplicate nor lose rows", "[store][engines]") {
  test_support::EngineStore fresh;
  { store::LibraryDb create(fresh.location()); }
  // Writer 0 imports ids 0..299, writer 1 ids 150..449, each in batches of 50 (one transaction
  // each), so their transactions interleave and 150 ids arrive from both.
  constexpr int kPerWriter = 300, kOffset = 150, kBatch = 50, kDistinct = kPerWriter + kOffset;
  std::atomic<std::uint64_t> added{0}, duplicates{0};
  test_support::Failures failures;
  test_support::race(2, failures, [&](int writer) {
    store::LibraryDb db(fresh.location());
    for (int first = writer * kOffset; first < writer * kOffset + kPerWriter; first += kBatch) {
      store::LibraryDb::Import import(db);
      for (int n = first; n < first + kBatch; ++n) import.add(interaction(n));
      auto stats = import.commit();
      added += stats.added;
      duplicates += stats.duplicates;
    }
  });
  CHECK(failures.none());
  CHECK(added == kDistinct);
  CHECK(duplicates == 2 * kPerWriter - kDistinct);

  store::LibraryDb db(fresh.location());
  CHECK(test_support::scalar(db.handle(), "SELECT COUNT(*) FROM recordings") == kDistinct);
  CHECK(test_support::scalar(db.handle(), "SELECT COUNT(DISTINCT interaction_id) FROM recordings") == kDistinct);
  // The mock index agrees with the recordings: one mock per key, none pointing nowhere.
  CHECK(db.library_size("api") == kDistinct);
  CHECK(test_support::scalar(db.handle(), "SELECT COUNT(DISTINCT match_key) FROM mocks WHERE service_id = 'api'") == kDistinct);
  CHECK(test_support::scalar(db.handle(), "SELECT COUNT(*) FROM mocks m LEFT JOIN recordings r ON r.id = m.recording_id WHERE r.id IS NULL") == 0);
  auto library = db.load_library("api");
  std::set<std::string> ids;
  for (const auto& in : library) ids.insert(in.id);
  CHECK(ids.size() == static_cast<std::size_t>(kDistinct));
}

TEST_CASE("store::LibraryDb: a fresh store is migrated once; reopening does not migrate again", "[store][engines]") {
  test_support::EngineStore fresh;
  LogCapture log;
  {
    store::LibraryDb db(fresh.location());
    CHECK(db.schema_version() == store::LibraryDb::current_schema_version());
    db.set_service_mode("api", std::string("MOCK"));
  }
  CHECK(log.count("schema migrated from version 0 to") == 1);
  for (int again = 0; again < 2; ++again) {
    store::LibraryDb db(fresh.location());
    CHECK(db.schema_version() == store::LibraryDb::current_schema_version());
    CHECK(db.service("api")->mode == "MOCK");
  }
  CHECK(log.count("schema migrated") == 1);
  if (fresh.postgres()) {
    store::LibraryDb db(fresh.location());
    CHECK(test_support::scalar(db.handle(), "SELECT COUNT(*) FROM gostly_schema_version") == 1);
  }
}

TEST_CASE("store::LibraryDb: connections migrating a fresh store at once all succeed, and it migrates once", "[store][engines]") {
  test_support::EngineStore fresh;
  LogCapture log;
  // A writer holds the store while four connections open it: all four find it unmigrated and
  // queue for the migration; only the first may run it, the others must find it done.
  auto holder = fresh.location().connect();
  holder->begin(store::sql::Lock::immediate);
  constexpr int kConnections = 4;
  std::atomic<int> opened{0};
  test_support::Failures failures;
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    holder->rollback();
  });
  test_support::race(kConnections, failures, [&](int) {
    store::LibraryDb db(fresh.location());
    if (db.schema_version() == store::LibraryDb::current_schema_version()) ++opened;
  });
  release.join();
  CHECK(failures.none());
  CHECK(opened == kConnections);
  CHECK(log.count("schema migrated from version 0 to") == 1);
}

TEST_CASE("store::LibraryDb: a visitor may query the store while the recordings stream", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  {
    store::LibraryDb::Import import(db);
    for (int n = 0; n < 20; ++n) {
      auto in = interaction(n, "api", n < 10 ? "s1" : "s2");
      in.recorded_at = "2026-03-01T00:00:" + std::string(n < 10 ? "0" : "") + std::to_string(n) + ".000Z";
      import.add(in);
    }
    import.commit();
  }
  std::vector<std::string> outer;
  std::size_t inner_rows = 0;
  db.for_each_recording("api", std::nullopt, false, [&](const record::Interaction& in) {
    outer.push_back(in.id);
    // Another statement on the same connection, mid-stream: a lookup and a second stream.
    CHECK(db.has_session("api", in.session_id));
    CHECK(db.library_size("api") == 20);
    db.for_each_recording("api", in.session_id, true, [&](const record::Interaction&) { ++inner_rows; });
  });
  REQUIRE(outer.size() == 20);
  for (int n = 0; n < 20; ++n) CHECK(outer[static_cast<std::size_t>(n)] == "int-" + std::to_string(n));
  CHECK(inner_rows == 20 * 10);

  // The same inside the mock index stream, and the outer stream is still whole afterwards.
  std::size_t mocks = 0;
  db.for_each_mock("api", [&](const record::Interaction& in) {
    ++mocks;
    CHECK(db.sessions("api").size() == 2);
    CHECK(db.service("api")->recordings == 20);
    CHECK_FALSE(in.id.empty());
  });
  CHECK(mocks == 20);
}
