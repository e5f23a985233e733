#include "store/library_db.hpp"

#include "record/codec.hpp"
#include "store/sql.hpp"
#include "../support/engine_store.hpp"
#include "util/error.hpp"
#include "util/time.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <cstdlib>
#include <thread>

using namespace gostly;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / util::random_id("gostly-store-test");
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

record::Interaction make(std::string id, std::string session, std::string at, std::string uri, std::string body,
                         std::string service = "default") {
  record::Interaction in;
  in.id = std::move(id);
  in.service_id = std::move(service);
  in.session_id = std::move(session);
  in.recorded_at = std::move(at);
  in.request.method = "GET";
  in.request.uri = std::move(uri);
  in.response.status = 200;
  in.response.body = std::move(body);
  return in;
}

std::vector<std::string> bodies(const std::vector<record::Interaction>& library) {
  std::vector<std::string> out;
  for (const auto& in : library) out.push_back(in.response.body);
  return out;
}

} // namespace

TEST_CASE("store::LibraryDb: reopening keeps sessions and recordings", "[store][engines]") {
  test_support::EngineStore fresh;
  const auto& path = fresh.location();
  {
    store::LibraryDb db(path);
    store::LibraryDb::Import import(db);
    import.add(make("a", "s1", "2026-01-01T00:00:00.000Z", "/users/1", "one"));
    import.add(make("b", "s2", "2026-01-02T00:00:00.000Z", "/users/2", "two"));
    auto stats = import.commit();
    CHECK(stats.added == 2);
    CHECK(stats.services_touched == std::vector<std::string>{"default"});
  }
  store::LibraryDb db(path);
  auto sessions = db.sessions("default");
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[0].session_id == "s1");
  CHECK(sessions[1].session_id == "s2");
  CHECK(sessions[1].learn_interactions == 1);
  CHECK(db.has_session("default", "s1"));
  CHECK_FALSE(db.has_session("default", "nope"));
  CHECK(db.library_size("default") == 2);
  auto services = db.services();
  REQUIRE(services.size() == 1);
  CHECK(services[0].recordings == 2);
  CHECK(services[0].last_recorded_at == "2026-01-02T00:00:00.000Z");
}

TEST_CASE("store::LibraryDb: the same interaction id is stored once", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  for (int round = 0; round < 2; ++round) {
    store::LibraryDb::Import import(db);
    import.add(make("a", "s1", "2026-01-01T00:00:00Z", "/x", "x"));
    auto stats = import.commit();
    CHECK(stats.added == (round == 0 ? 1u : 0u));
    CHECK(stats.duplicates == (round == 0 ? 0u : 1u));
  }
  CHECK(db.library_size("default") == 1);
}

TEST_CASE("store::LibraryDb: records without an id dedupe on content", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  for (int round = 0; round < 2; ++round) {
    store::LibraryDb::Import import(db);
    import.add(make("", "s1", "2026-01-01T00:00:00Z", "/x", "x"));
    import.add(make("", "s1", "2026-01-01T00:00:01Z", "/x", "x"));
    import.commit();
  }
  CHECK(db.sessions("default").at(0).interactions == 2);
}

TEST_CASE("store::LibraryDb: an import destroyed without commit leaves nothing", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  {
    store::LibraryDb::Import import(db);
    import.add(make("a", "s1", "2026-01-01T00:00:00Z", "/x", "x"));
  }
  CHECK(db.services().empty());
  CHECK(db.library_size("default") == 0);
}

TEST_CASE("store::LibraryDb: the mock index replays the newest session's answers in recorded order", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  {
    store::LibraryDb::Import import(db);
    // Old session: /posts/1 twice, /only-old once.
    import.add(make("o1", "old", "2026-01-01T00:00:00Z", "/posts/1", "old-before"));
    import.add(make("o2", "old", "2026-01-01T00:00:01Z", "/posts/1", "old-after"));
    import.add(make("o3", "old", "2026-01-01T00:00:02Z", "/only-old", "only-old"));
    // New session, added out of order: its answers for /posts/1 must replace the old ones.
    import.add(make("n2", "new", "2026-02-01T00:00:05Z", "/posts/1", "new-after"));
    import.add(make("n1", "new", "2026-02-01T00:00:00Z", "/posts/1", "new-before"));
    import.commit();
  }
  auto library = db.load_library("default");
  // Keys come in the order their (chosen) mocks were first recorded: /only-old in January.
  CHECK(bodies(library) == std::vector<std::string>{"only-old", "new-before", "new-after"});
  CHECK(db.library_size("default") == 3);
}

TEST_CASE("store::LibraryDb: a spec's several answers for one key keep only the documented success", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  {
    store::LibraryDb::Import import(db);
    auto answer = [](std::string id, std::string session, std::string source, int status, std::string body) {
      auto in = make(std::move(id), std::move(session), "1970-01-01T00:00:00Z", "/pets/1", std::move(body));
      in.source = std::move(source);
      in.response.status = status;
      return in;
    };
    import.add(answer("s1", "seed-openapi", "openapi", 404, "not found"));
    import.add(answer("s2", "seed-openapi", "openapi", 200, "the pet"));
    import.add(answer("s3", "seed-openapi", "openapi", 500, "oops"));
    import.commit();
  }
  auto library = db.load_library("default");
  CHECK(bodies(library) == std::vector<std::string>{"the pet"});
  std::uint64_t recordings = 0;
  db.for_each_recording("default", std::nullopt, false, [&](const record::Interaction&) { ++recordings; });
  CHECK(recordings == 3); // every documented answer is kept as a recording
}

TEST_CASE("store::LibraryDb: recording order uses time, not the text of the timestamp", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  {
    store::LibraryDb::Import import(db);
    // 01:00+02:00 is 23:00Z the day before, earlier than 00:30Z.
    import.add(make("late", "s", "2026-01-01T00:30:00Z", "/a", "late"));
    import.add(make("early", "s", "2026-01-01T01:00:00+02:00", "/a", "early"));
    import.commit();
  }
  CHECK(bodies(db.load_library("default")) == std::vector<std::string>{"early", "late"});
  std::vector<std::string> seen;
  db.for_each_recording("default", std::nullopt, true, [&](const record::Interaction& in) { seen.push_back(in.id); });
  CHECK(seen == std::vector<std::string>{"early", "late"});
}

TEST_CASE("store::LibraryDb: for_each_recording filters by session and source", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  {
    store::LibraryDb::Import import(db);
    auto seeded = make("h", "s1", "2026-01-01T00:00:00Z", "/h", "h");
    seeded.source = "har";
    import.add(seeded);
    import.add(make("l", "s1", "2026-01-01T00:00:01Z", "/l", "l"));
    import.add(make("m", "s2", "2026-01-01T00:00:02Z", "/m", "m"));
    import.commit();
  }
  auto ids = [&](std::optional<std::string> session, bool learn_only) {
    std::vector<std::string> out;
    db.for_each_recording("default", session, learn_only, [&](const record::Interaction& in) { out.push_back(in.id); });
    return out;
  };
  CHECK(ids(std::nullopt, false) == std::vector<std::string>{"h", "l", "m"});
  CHECK(ids(std::string("s1"), false) == std::vector<std::string>{"h", "l"});
  CHECK(ids(std::string("s1"), true) == std::vector<std::string>{"l"});
}

TEST_CASE("store::LibraryDb: unsafe ids and bad timestamps are refused as field errors", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  store::LibraryDb::Import import(db);
  try {
    import.add(make("a", "s", "2026-01-01T00:00:00Z", "/x", "", "../evil"));
    FAIL("expected a FieldError");
  } catch (const record::FieldError& e) {
    CHECK(e.field == "service_id");
  }
  try {
    import.add(make("a", "s", "yesterday", "/x", ""));
    FAIL("expected a FieldError");
  } catch (const record::FieldError& e) {
    CHECK(e.field == "recorded_at");
  }
}

TEST_CASE("store::LibraryDb: records without a session share the import's session id", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  std::string session;
  {
    store::LibraryDb::Import import(db);
    import.add(make("a", "", "2026-01-01T00:00:00Z", "/a", ""));
    import.add(make("b", "", "2026-01-01T00:00:01Z", "/b", ""));
    session = import.default_session_id();
    import.commit();
  }
  auto sessions = db.sessions("default");
  REQUIRE(sessions.size() == 1);
  CHECK(sessions[0].session_id == session);
  CHECK(sessions[0].interactions == 2);
}

TEST_CASE("store::LibraryDb: service modes are canonical and clearable", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  db.set_service_mode("payments", std::string("mock"));
  CHECK(db.service("payments")->mode == "MOCK");
  db.set_service_mode("payments", std::nullopt);
  CHECK_FALSE(db.service("payments")->mode.has_value());
  CHECK_THROWS_AS(db.set_service_mode("payments", std::string("sideways")), UsageError);
  CHECK_THROWS_AS(db.set_service_mode("../x", std::nullopt), UsageError);
  CHECK_FALSE(db.service("nope").has_value());
}

TEST_CASE("store::LibraryDb: per-service redact_headers are stored, lower-cased and clearable", "[store][engines]") {
  test_support::EngineStore fresh;
  const auto& path = fresh.location();
  {
    store::LibraryDb db(path);
    CHECK(db.service("payments") == std::nullopt);
    db.set_service_redact_headers("payments", {"X-Secret-Token", "x-other"});
    db.set_service_mode("payments", std::string("MOCK")); // one setting does not reset another
  }
  store::LibraryDb db(path);
  REQUIRE(db.service("payments").has_value());
  CHECK(db.service("payments")->redact_headers == std::vector<std::string>{"x-secret-token", "x-other"});
  CHECK(db.service("payments")->mode == "MOCK");
  db.set_service_redact_headers("payments", {});
  CHECK(db.service("payments")->redact_headers.empty());
  CHECK(db.service("payments")->mode == "MOCK");
  CHECK_THROWS_AS(db.set_service_redact_headers("payments", {"bad header"}), UsageError);
}

TEST_CASE("store::LibraryDb: a store of schema 1 is migrated and keeps its services", "[store][engines]") {
  test_support::EngineStore fresh;
  const auto& path = fresh.location();
  {
    store::LibraryDb db(path);
    db.set_service_mode("payments", std::string("MOCK"));
    // What gostly before per-service settings wrote: no redact_headers column, schema version 1
    // (SQLite: PRAGMA user_version; PostgreSQL: gostly_schema_version).
    store::sql::exec(db.handle(), "ALTER TABLE services DROP COLUMN chaos; ALTER TABLE services DROP COLUMN redact_headers");
    db.handle().set_user_version(1);
  }
  store::LibraryDb db(path);
  REQUIRE(db.service("payments").has_value());
  CHECK(db.service("payments")->mode == "MOCK");
  CHECK(db.service("payments")->redact_headers.empty());
  db.set_service_redact_headers("payments", {"x-a"});
  CHECK(db.service("payments")->redact_headers == std::vector<std::string>{"x-a"});
}

TEST_CASE("store::LibraryDb: the stored record keeps unknown fields and raw bodies", "[store][engines]") {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  auto in = make("a", "s", "2026-01-01T00:00:00Z", "/bin", std::string("\x1f\x8b\x00\xff", 4));
  in.extra["future_field"] = 42;
  {
    store::LibraryDb::Import import(db);
    import.add(in);
    import.commit();
  }
  auto library = db.load_library("default");
  REQUIRE(library.size() == 1);
  CHECK(library[0].response.body == std::string("\x1f\x8b\x00\xff", 4));
  CHECK(library[0].extra.at("future_field") == 42);
}

TEST_CASE("store::LibraryDb: other domains keep their schema versions in meta", "[store][engines]") {
  test_support::EngineStore fresh;
  const auto& path = fresh.location();
  {
    store::LibraryDb db(path);
    CHECK(db.domain_version("drift") == 0);
    db.set_domain_version("drift", 3);
  }
  store::LibraryDb db(path);
  CHECK(db.domain_version("drift") == 3);
}

TEST_CASE("store::LibraryDb: a SQLite library is in WAL mode", "[store]") {
  TempDir dir;
  store::LibraryDb db(dir.path / "library.db");
  store::sql::Statement wal(db.handle(), "PRAGMA journal_mode");
  REQUIRE(wal.step());
  CHECK(wal.text(0) == "wal");
}

TEST_CASE("store::LibraryDb: a store from a newer gostly is refused", "[store][engines]") {
  test_support::EngineStore fresh;
  const auto& path = fresh.location();
  {
    store::LibraryDb db(path);
    db.handle().set_user_version(99);
  }
  CHECK_THROWS_AS(store::LibraryDb(path), Error);
}

TEST_CASE("store::match_key: method, uri and a body hash", "[store]") {
  CHECK(store::match_key("GET", "/a?b=1", "") == "GET /a?b=1\n");
  CHECK(store::match_key("POST", "/a", "x") != store::match_key("POST", "/a", "y"));
}

TEST_CASE("store::LibraryDb: a second writer queues behind an import instead of failing on the busy timeout", "[store][engines]") {
  test_support::EngineStore fresh;
  const auto& path = fresh.location();
  { store::LibraryDb create(path); }
  store::LibraryDb first(path);
  // A busy timeout far shorter than the first import: only a queue lets the second one through.
  ::setenv("GOSTLY_BUSY_TIMEOUT_MS", "100", 1);
  store::LibraryDb second(path);
  ::unsetenv("GOSTLY_BUSY_TIMEOUT_MS");
  std::atomic<bool> first_holds{false};
  std::atomic<bool> first_done{false};
  std::thread writer([&] {
    store::LibraryDb::Import import(first);
    import.add(make("a", "s1", "2026-01-01T00:00:00.000Z", "/a", "one"));
    first_holds = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    first_done = true;
    import.commit();
  });
  while (!first_holds) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  bool second_ok = false;
  try {
    store::LibraryDb::Import import(second);
    CHECK(first_done); // it waited for the first import
    import.add(make("b", "s1", "2026-01-02T00:00:00.000Z", "/b", "two"));
    import.commit();
    second_ok = true;
  } catch (const Error& e) {
    FAIL_CHECK("second import failed: " << e.what());
  }
  writer.join();
  CHECK(second_ok);
  CHECK(first.library_size("default") == 2);
}

TEST_CASE("store::LibraryDb: opening the library while an import runs does not wait for it", "[store][engines]") {
  test_support::EngineStore fresh;
  const auto& path = fresh.location();
  store::LibraryDb writer_db(path);
  store::LibraryDb::Import import(writer_db);
  import.add(make("a", "s1", "2026-01-01T00:00:00.000Z", "/a", "one"));
  auto start = std::chrono::steady_clock::now();
  store::LibraryDb reader(path); // a gostly-serve reload opens the library like this
  CHECK(reader.library_size("default") == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  import.commit();
  CHECK(reader.library_size("default") == 1);
}

TEST_CASE("store::LibraryDb: per-service chaos configs are stored, cleared and survive reopening", "[store][engines]") {
  test_support::EngineStore fresh;
  {
    store::LibraryDb db(fresh.location());
    CHECK(db.service_chaos().empty());
    db.set_service_mode("payments", std::string("mock"));
    db.set_service_chaos("payments", std::string(R"({"error_rate":0.5})"));
    db.set_service_chaos("api.example.com", std::string(R"({"seed":1})"));
    CHECK(db.service("payments")->mode == "MOCK"); // the mode stays
    CHECK_THROWS_AS(db.set_service_chaos("../x", std::nullopt), UsageError);
  }
  store::LibraryDb db(fresh.location());
  auto rows = db.service_chaos();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == std::pair<std::string, std::string>{"api.example.com", R"({"seed":1})"});
  CHECK(rows[1] == std::pair<std::string, std::string>{"payments", R"({"error_rate":0.5})"});
  db.set_service_chaos("payments", std::nullopt);
  REQUIRE(db.service_chaos().size() == 1);
  CHECK(db.services().size() == 2);
}
