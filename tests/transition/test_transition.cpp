#include "transition/transition.hpp"

#include "store/library_db.hpp"
#include "store/sql.hpp"
#include "transition/control_client.hpp"
#include "../support/engine_store.hpp"
#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

using namespace gostly;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / util::random_id("gostly-transition-test");
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::string line(const std::string& id, const std::string& uri, const std::string& extra_headers = "") {
  return R"({"type":"interaction","v":1,"id":")" + id +
         R"(","session_id":"s1","recorded_at":"2026-01-01T00:00:00Z","request":{"method":"GET","uri":")" + uri +
         R"(","headers":[["Authorization","Bearer secret-token-value"],["Cookie","sid=1"])" + extra_headers +
         R"(]},"response":{"status":200,"headers":[["Set-Cookie","sid=2"]],"body":"ok"}})" + "\n";
}

void write(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::uint64_t count_rows(const store::StoreLocation& location) {
  store::LibraryDb db(location);
  store::sql::Statement count(db.handle(), "SELECT COUNT(*) FROM recordings");
  count.step();
  return static_cast<std::uint64_t>(count.integer(0));
}

} // namespace

TEST_CASE("transition::run_transition: records land in the store with the floor masked", "[transition][engines]") {
  TempDir dir;
  test_support::EngineStore fresh;
  write(dir.path / "in.jsonl", line("a", "/a", R"(,["X-Trace","t1"])") + line("b", "/b"));
  transition::TransitionOptions options;
  options.data_dir = dir.path / "data";
  options.store = fresh.store_value();
  options.inputs = {(dir.path / "in.jsonl").string()};
  options.redact_headers = {"x-trace"};
  auto result = transition::run_transition(options);
  CHECK(result.records_read == 2);
  CHECK(result.added == 2);
  CHECK(result.services == std::vector<std::string>{"default"});
  CHECK(result.sessions == 1);

  store::LibraryDb db(fresh.location());
  store::sql::Statement all(db.handle(), "SELECT record FROM recordings ORDER BY id");
  std::string text;
  while (all.step()) text += util::to_lower(all.text(0)) + "\n";
  REQUIRE(!text.empty());
  CHECK(text.find("secret-token-value") == std::string::npos);
  CHECK(text.find("sid=1") == std::string::npos);
  CHECK(text.find("sid=2") == std::string::npos);
  CHECK(text.find("\"t1\"") == std::string::npos);
  // Masked in place: the client still gets its cookie (named) back in replay.
  CHECK(text.find(R"(["set-cookie","sid=gostly-redacted"])") != std::string::npos);
  CHECK(text.find(R"(["cookie","sid=gostly-redacted"])") != std::string::npos);
  CHECK(text.find(R"(["x-trace","gostly-redacted"])") != std::string::npos);
  CHECK(text.find("\"x-trace\"") != std::string::npos); // named in `redacted`
}

TEST_CASE("transition::run_transition: a malformed line anywhere writes nothing", "[transition][engines]") {
  TempDir dir;
  test_support::EngineStore fresh;
  transition::TransitionOptions options;
  options.data_dir = dir.path / "data";
  options.store = fresh.store_value();
  write(dir.path / "good.jsonl", line("a", "/a"));
  options.inputs = {(dir.path / "good.jsonl").string()};
  transition::run_transition(options);

  write(dir.path / "bad.jsonl", line("b", "/b") + line("c", "/c") + R"({"request":{"method":"GET","uri":"/x"},"response":{"status":"200"}})" "\n");
  options.inputs = {(dir.path / "good.jsonl").string(), (dir.path / "bad.jsonl").string()};
  try {
    transition::run_transition(options);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(e.source() == (dir.path / "bad.jsonl").string());
    CHECK(e.line() == 3);
    CHECK(e.field() == "response.status");
  }
  CHECK(count_rows(fresh.location()) == 1);
}

TEST_CASE("transition::run_transition: --service and --session override and are validated", "[transition][engines]") {
  TempDir dir;
  test_support::EngineStore fresh;
  write(dir.path / "in.jsonl", line("a", "/a"));
  transition::TransitionOptions options;
  options.data_dir = dir.path / "data";
  options.store = fresh.store_value();
  options.inputs = {(dir.path / "in.jsonl").string()};
  options.service = "../etc";
  CHECK_THROWS_AS(transition::run_transition(options), UsageError);
  options.service = "payments";
  options.session = "run-7";
  auto result = transition::run_transition(options);
  CHECK(result.services == std::vector<std::string>{"payments"});
  store::LibraryDb db(fresh.location());
  CHECK(db.has_session("payments", "run-7"));
}

TEST_CASE("transition::run_transition: a record's unsafe service id is an input error with its line", "[transition][engines]") {
  TempDir dir;
  test_support::EngineStore fresh;
  write(dir.path / "in.jsonl", line("a", "/a") + R"({"service_id":"a/b","request":{"method":"GET","uri":"/"},"response":{"status":200}})" "\n");
  transition::TransitionOptions options;
  options.data_dir = dir.path / "data";
  options.store = fresh.store_value();
  options.inputs = {(dir.path / "in.jsonl").string()};
  try {
    transition::run_transition(options);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(e.line() == 2);
    CHECK(e.field() == "service_id");
  }
}

TEST_CASE("transition::run_transition: a dry run reports real counts and changes nothing", "[transition][engines]") {
  TempDir dir;
  test_support::EngineStore fresh;
  write(dir.path / "in.jsonl", line("a", "/a") + line("b", "/b"));
  transition::TransitionOptions options;
  options.data_dir = dir.path / "data";
  options.store = fresh.store_value();
  options.inputs = {(dir.path / "in.jsonl").string()};
  options.dry_run = true;
  auto first = transition::run_transition(options);
  CHECK(first.added == 2);
  if (fresh.postgres())
    CHECK(count_rows(fresh.location()) == 0);
  else
    CHECK_FALSE(fs::exists(fresh.location().file())); // not even created

  options.dry_run = false;
  transition::run_transition(options);
  options.dry_run = true;
  auto again = transition::run_transition(options);
  CHECK(again.added == 0);
  CHECK(again.duplicates == 2);
  CHECK(count_rows(fresh.location()) == 2);
}

TEST_CASE("transition::run_transition: with no inputs it reads traffic/*.jsonl and skips a torn tail", "[transition][engines]") {
  TempDir dir;
  test_support::EngineStore fresh;
  fs::create_directories(dir.path / "data" / "traffic");
  write(dir.path / "data" / "traffic" / "api.jsonl", line("a", "/a") + R"({"type":"interaction","request":{"meth)");
  write(dir.path / "data" / "traffic" / "web.jsonl", line("b", "/b"));
  write(dir.path / "data" / "traffic" / "notes.txt", "not jsonl");
  transition::TransitionOptions options;
  options.data_dir = dir.path / "data";
  options.store = fresh.store_value();
  auto result = transition::run_transition(options);
  CHECK(result.inputs.size() == 2);
  CHECK(result.records_read == 2);
  CHECK(result.torn_lines_skipped == 1);
}

TEST_CASE("transition::ControlClient: malformed addresses and a missing key are usage errors", "[transition]") {
  CHECK_THROWS_AS(transition::ControlClient("localhost", "k"), UsageError);
  CHECK_THROWS_AS(transition::ControlClient("127.0.0.1:x", "k"), UsageError);
  CHECK_THROWS_AS(transition::ControlClient("127.0.0.1:8000", ""), UsageError);
  CHECK_NOTHROW(transition::ControlClient("127.0.0.1:8000", "k"));
}

TEST_CASE("transition::ControlClient: nothing listening is a clear error", "[transition]") {
  // Port 1 on loopback is reserved (tcpmux) and not served in any test environment we use.
  transition::ControlClient client("127.0.0.1:1", "k");
  CHECK_THROWS_WITH(client.begin(), Catch::Contains("127.0.0.1:1") && Catch::Contains("begin"));
}
