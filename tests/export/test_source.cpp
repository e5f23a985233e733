#include "export/source.hpp"
#include "store/data_dir.hpp"

#include "helpers.hpp"
#include "store/library_db.hpp"
#include "../support/engine_store.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <unistd.h>

using namespace export_test;
using namespace gostly::export_;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  TempDir() : path(fs::temp_directory_path() / ("gostly-export-test-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

std::vector<std::string> uris(InteractionSource& source) {
  std::vector<std::string> out;
  source.for_each([&](const Interaction& i) { out.push_back(i.request.uri); });
  return out;
}

} // namespace

TEST_CASE("export::source: the library, one service, optionally one session, in recorded order", "[export][source][engines]") {
  TempDir dir;
  gostly::test_support::EngineStore fresh;
  gostly::store::DataDir data(dir.path, fresh.store_value()); // what --store gives gostly-export
  {
    gostly::store::LibraryDb db(data.library());
    gostly::store::LibraryDb::Import import(db);
    auto a = make("GET", "/a", 200, "{}");
    auto b = make("GET", "/b", 200, "{}");
    b.id = "other-id";
    b.session_id = "sess-2";
    b.recorded_at = "2026-11-22T17:50:02.000Z";
    auto c = make("GET", "/c", 200, "{}");
    c.id = "third";
    c.service_id = "elsewhere";
    import.add(a);
    import.add(b);
    import.add(c);
    import.commit();
  }
  LibrarySource all(data.library(), "api");
  CHECK(uris(all) == std::vector<std::string>{"/a", "/b"});
  CHECK(all.delivered() == 2);
  LibrarySource one(data.library(), "api", "sess-2");
  CHECK(uris(one) == std::vector<std::string>{"/b"});
  CHECK_THROWS_AS(LibrarySource(data.library(), "nope"), gostly::NotFoundError);
  CHECK_THROWS_AS(LibrarySource(data.library(), "api", "sess-9"), gostly::NotFoundError);
  CHECK_THROWS_AS(LibrarySource(data.library(), "../x"), gostly::UsageError);
}

TEST_CASE("export::source: no SQLite library is an error and creates none", "[export][source]") {
  TempDir dir;
  CHECK_THROWS_AS(LibrarySource(gostly::store::DataDir(dir.path).library(), ""), gostly::NotFoundError);
  CHECK_FALSE(fs::exists(dir.path / "library.db"));
}

TEST_CASE("export::source: JSONL filtered by service and session, other record types skipped", "[export][source]") {
  auto a = make("GET", "/a", 200, "{}");
  auto b = make("GET", "/b", 200, "{}");
  b.service_id = "other";
  auto c = make("GET", "/c", 200, "{}");
  c.session_id = "sess-2";
  std::string text = jsonl({a, b});
  text += R"({"type":"drift_event","id":1})" "\n";
  text += jsonl({c});
  {
    TextSource in(text);
    CHECK(uris(in.source) == std::vector<std::string>{"/a", "/b", "/c"});
  }
  {
    std::istringstream stream(text);
    JsonlSource source(stream, "in.jsonl", "api");
    CHECK(uris(source) == std::vector<std::string>{"/a", "/c"});
  }
  {
    std::istringstream stream(text);
    JsonlSource source(stream, "in.jsonl", "api", "sess-2");
    CHECK(uris(source) == std::vector<std::string>{"/c"});
  }
}
