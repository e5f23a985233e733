#include "bundle/bundle.hpp"

#include "record/codec.hpp"
#include "redact/redact.hpp"

#include "store/library_db.hpp"
#include "../support/engine_store.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

using namespace gostly;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / util::random_id("gostly-bundle-test");
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

void fill(store::LibraryDb& db) {
  store::LibraryDb::Import import(db);
  for (int i = 0; i < 3; ++i) {
    record::Interaction in;
    in.id = "r" + std::to_string(i);
    in.service_id = i == 2 ? "payments" : "api";
    in.session_id = "s1";
    in.recorded_at = "2026-01-01T00:00:0" + std::to_string(i) + "Z";
    in.request.uri = "/users/" + std::to_string(i);
    in.response.body = R"({"email":"person)" + std::to_string(i) + R"(@corp.example.com"})";
    import.add(in);
  }
  record::Interaction binary;
  binary.id = "bin";
  binary.session_id = "s1";
  binary.service_id = "api";
  binary.recorded_at = "2026-01-01T00:00:09Z";
  binary.request.uri = "/blob";
  binary.response.body = std::string("\x1f\x8b\x08\x00\xff\xfe", 6);
  import.add(binary);
  import.commit();
}

// Writes a .tar.gz with the given (name, content) entries, in order.
void make_archive(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
  for (const auto& [name, content] : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name.c_str());
    archive_entry_set_size(entry, static_cast<la_int64_t>(content.size()));
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_write_header(a, entry);
    archive_write_data(a, content.data(), content.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

const std::string kManifest =
    R"({"format":"gostly-bundle","bundle_version":1,"services":[{"id":"api","file":"services/api.jsonl","mocks":1}]})";
const std::string kRecord =
    R"({"type":"interaction","id":"x1","service_id":"api","session_id":"s","recorded_at":"2026-01-01T00:00:00Z","request":{"method":"GET","uri":"/"},"response":{"status":200}})"
    "\n";

} // namespace

TEST_CASE("bundle::export_bundle: a round trip into a fresh library keeps every mock, scrubbed", "[bundle][engines]") {
  TempDir dir;
  test_support::EngineStore store_a;
  test_support::EngineStore store_b;
  store::LibraryDb source(store_a.location());
  fill(source);
  auto file = dir.path / "lib.tar.gz";
  auto exported = bundle::export_bundle(source, file, bundle::Overwrite::no);
  CHECK(exported.interactions == 4);
  CHECK(exported.scrubbed.emails == 3);

  store::LibraryDb target(store_b.location());
  auto imported = bundle::import_bundle(target, file, redact::Redactor());
  CHECK(imported.added == 4);
  CHECK(imported.services == std::vector<std::string>{"api", "payments"});
  auto api = target.load_library("api");
  REQUIRE(api.size() == 3);
  CHECK(api[0].response.body == R"({"email":"user@example.invalid"})");
  CHECK(api[2].response.body == std::string("\x1f\x8b\x08\x00\xff\xfe", 6));
  CHECK(target.library_size("payments") == 1);

  CHECK(bundle::import_bundle(target, file, redact::Redactor()).duplicates == 4);
}

TEST_CASE("bundle::export_bundle: an existing file is kept unless told to overwrite", "[bundle][engines]") {
  TempDir dir;
  test_support::EngineStore store_a;
  store::LibraryDb db(store_a.location());
  fill(db);
  auto file = dir.path / "lib.tar.gz";
  std::ofstream(file) << "precious";
  CHECK_THROWS_AS(bundle::export_bundle(db, file, bundle::Overwrite::no), UsageError);
  CHECK(util::read_small_file(file) == "precious");
  bundle::export_bundle(db, file, bundle::Overwrite::yes);
  CHECK(fs::file_size(file) > 100);
}

TEST_CASE("bundle::import_bundle: an entry escaping with ../ is refused and nothing is written", "[bundle][engines]") {
  TempDir dir;
  test_support::EngineStore store_a;
  auto file = dir.path / "evil.tar.gz";
  make_archive(file, {{"manifest.json", kManifest}, {"services/api.jsonl", kRecord}, {"../escape.jsonl", kRecord}});
  store::LibraryDb db(store_a.location());
  CHECK_THROWS_WITH(bundle::import_bundle(db, file, redact::Redactor()), Catch::Contains("escapes") && Catch::Contains("../escape.jsonl"));
  CHECK(db.library_size("api") == 0);
  CHECK_FALSE(fs::exists(dir.path.parent_path() / "escape.jsonl"));
}

TEST_CASE("bundle::import_bundle: foreign, corrupt and inconsistent archives are input errors", "[bundle][engines]") {
  TempDir dir;
  test_support::EngineStore store_a;
  store::LibraryDb db(store_a.location());
  auto file = dir.path / "x.tar.gz";

  make_archive(file, {{"README", "hello"}});
  CHECK_THROWS_WITH(bundle::import_bundle(db, file, redact::Redactor()), Catch::Contains("manifest.json"));

  make_archive(file, {{"manifest.json", R"({"format":"something-else"})"}});
  CHECK_THROWS_WITH(bundle::import_bundle(db, file, redact::Redactor()), Catch::Contains("not a gostly bundle"));

  make_archive(file, {{"manifest.json", kManifest}, {"services/api.jsonl", kRecord + kRecord.substr(0, 30) + "\n"}});
  CHECK_THROWS_WITH(bundle::import_bundle(db, file, redact::Redactor()), Catch::Contains("services/api.jsonl:2"));

  make_archive(file, {{"manifest.json", kManifest}});
  CHECK_THROWS_WITH(bundle::import_bundle(db, file, redact::Redactor()), Catch::Contains("missing"));

  std::ofstream(file, std::ios::binary | std::ios::trunc) << "\x1f\x8b garbage that is not gzip";
  CHECK_THROWS_AS(bundle::import_bundle(db, file, redact::Redactor()), InputError);
  CHECK(db.services().empty());
}

TEST_CASE("bundle::is_safe_entry_name: relative names without .. only", "[bundle]") {
  CHECK(bundle::is_safe_entry_name("services/api.jsonl"));
  CHECK(bundle::is_safe_entry_name("./manifest.json"));
  CHECK_FALSE(bundle::is_safe_entry_name("../x"));
  CHECK_FALSE(bundle::is_safe_entry_name("services/../../x"));
  CHECK_FALSE(bundle::is_safe_entry_name("/etc/passwd"));
  CHECK_FALSE(bundle::is_safe_entry_name(""));
}

TEST_CASE("bundle::import_bundle: credentials in headers and URL userinfo are masked on import", "[bundle][hostile][engines]") {
  TempDir dir;
  test_support::EngineStore store_a;
  auto file = dir.path / "creds.tar.gz";
  std::string record =
      R"({"type":"interaction","id":"c1","service_id":"api","session_id":"s","recorded_at":"2026-01-01T00:00:00Z",)"
      R"("request":{"method":"GET","uri":"http://user:SECRET-uri@api.test/p","host":"user:SECRET-host@api.test",)"
      R"("headers":[["Authorization","Bearer SECRET-a"],["Cookie","sid=SECRET-c"],["x-api-key","SECRET-k"],["X-Tenant","SECRET-t"],["Accept","*/*"]]},)"
      R"("response":{"status":200,"headers":[["Set-Cookie","sid=SECRET-s"],["Content-Type","text/plain"]]}})"
      "\n";
  make_archive(file, {{"manifest.json", kManifest}, {"services/api.jsonl", record}});
  store::LibraryDb db(store_a.location());
  redact::Redactor redactor;
  redactor.add("x-tenant");
  CHECK(bundle::import_bundle(db, file, redactor).added == 1);
  auto library = db.load_library("api");
  REQUIRE(library.size() == 1);
  std::string stored = record::encode_line(library[0]);
  CHECK(stored.find("SECRET") == std::string::npos);
  CHECK(library[0].request.host == "api.test");
  CHECK(library[0].request.uri == "http://user:gostly-redacted@api.test/p");
  CHECK(library[0].request.headers == record::Headers{{"Authorization", "gostly-redacted"},
                                                      {"Cookie", "sid=gostly-redacted"},
                                                      {"x-api-key", "gostly-redacted"},
                                                      {"X-Tenant", "gostly-redacted"},
                                                      {"Accept", "*/*"}});
  CHECK(library[0].response.headers == record::Headers{{"Set-Cookie", "sid=gostly-redacted"}, {"Content-Type", "text/plain"}});
  CHECK_THAT(library[0].redacted, Catch::VectorContains(std::string("userinfo")) &&
                                      Catch::VectorContains(std::string("set-cookie")) &&
                                      Catch::VectorContains(std::string("x-tenant")));
}

TEST_CASE("bundle::import_bundle: hostile records are input errors naming entry, line and field", "[bundle][hostile][engines]") {
  TempDir dir;
  test_support::EngineStore store_a;
  store::LibraryDb db(store_a.location());
  auto file = dir.path / "x.tar.gz";
  const redact::Redactor floor;

  std::string split = kRecord;
  split.replace(split.find(R"("status":200)"), 12, R"("status":200,"headers":[["X","1\r\nSet-Cookie: a=1"]])");
  make_archive(file, {{"manifest.json", kManifest}, {"services/api.jsonl", split}});
  CHECK_THROWS_WITH(bundle::import_bundle(db, file, floor),
                    Catch::Contains("services/api.jsonl:1: response.headers[0][1]: header value contains CR, LF or NUL"));

  std::string deep = kRecord;
  deep.insert(1, R"("future":)" + std::string(50000, '[') + std::string(50000, ']') + ",");
  make_archive(file, {{"manifest.json", kManifest}, {"services/api.jsonl", deep}});
  CHECK_THROWS_WITH(bundle::import_bundle(db, file, floor),
                    Catch::Contains("services/api.jsonl:1: ") && Catch::Contains("limit GOSTLY_MAX_DEPTH"));

  std::string deep_manifest = kManifest;
  deep_manifest.insert(1, R"("x":)" + std::string(50000, '[') + std::string(50000, ']') + ",");
  make_archive(file, {{"manifest.json", deep_manifest}, {"services/api.jsonl", kRecord}});
  CHECK_THROWS_WITH(bundle::import_bundle(db, file, floor),
                    Catch::Contains("manifest.json") && Catch::Contains("limit GOSTLY_MAX_DEPTH"));

  std::string big_version = kManifest;
  big_version.replace(big_version.find(R"("bundle_version":1)"), 18, R"("bundle_version":4294967297)");
  make_archive(file, {{"manifest.json", big_version}, {"services/api.jsonl", kRecord}});
  CHECK_THROWS_WITH(bundle::import_bundle(db, file, floor), Catch::Contains("bundle_version"));

  std::string status = kRecord;
  status.replace(status.find(R"("status":200)"), 12, R"("status":4294967496)");
  make_archive(file, {{"manifest.json", kManifest}, {"services/api.jsonl", status}});
  CHECK_THROWS_WITH(bundle::import_bundle(db, file, floor), Catch::Contains("services/api.jsonl:1: response.status"));
  CHECK(db.services().empty());
}

TEST_CASE("bundle::import_bundle: per-service settings travel with the bundle", "[bundle][engines]") {
  TempDir dir;
  test_support::EngineStore store_a;
  test_support::EngineStore store_b;
  store::LibraryDb source(store_a.location());
  fill(source);
  source.set_service_mode("payments", std::string("MOCK"));
  source.set_service_mode("idle", std::string("PASSTHROUGH")); // settings, no mocks
  source.set_service_redact_headers("payments", {"X-Tenant"});
  {
    store::LibraryDb::Import import(source);
    record::Interaction in;
    in.id = "tenant";
    in.service_id = "payments";
    in.session_id = "s2";
    in.recorded_at = "2026-01-02T00:00:00Z";
    in.request.uri = "/tenant";
    in.request.headers = {{"X-Tenant", "acme-secret-tenant"}};
    import.add(in); // stored before the rule existed: the export applies it
    import.commit();
  }
  auto file = dir.path / "lib.tar.gz";
  bundle::export_bundle(source, file, bundle::Overwrite::no);

  store::LibraryDb target(store_b.location());
  target.set_service_mode("api", std::string("LEARN")); // the bundle says nothing about api's mode
  bundle::import_bundle(target, file, redact::Redactor());
  REQUIRE(target.service("payments").has_value());
  CHECK(target.service("payments")->mode == "MOCK");
  REQUIRE(target.service("idle").has_value());
  CHECK(target.service("idle")->mode == "PASSTHROUGH");
  CHECK(target.service("api")->mode == "LEARN");
  CHECK(target.service("payments")->redact_headers == std::vector<std::string>{"x-tenant"});
  CHECK(target.service("api")->redact_headers.empty());
  std::string stored;
  target.for_each_recording("payments", std::nullopt, false,
                            [&](const record::Interaction& in) { stored += record::encode_line(in); });
  CHECK_THAT(stored, Catch::Contains("/tenant"));
  CHECK_THAT(stored, !Catch::Contains("acme-secret-tenant"));
}

TEST_CASE("bundle::import_bundle: a manifest's service settings are checked like any input", "[bundle][hostile][engines]") {
  TempDir dir;
  test_support::EngineStore store_t;
  auto file = dir.path / "bad.tar.gz";
  for (const char* row : {R"("mode":"TRANSITIONING")", R"("mode":5)", R"("redact_headers":"x-a")",
                          R"("redact_headers":["bad header"])"}) {
    make_archive(file, {{"manifest.json", R"({"format":"gostly-bundle","bundle_version":1,"services":[{"id":"api","mocks":1,)" +
                                              std::string(row) + "}]}"},
                        {"services/api.jsonl", kRecord}});
    store::LibraryDb target(store_t.location());
    try {
      bundle::import_bundle(target, file, redact::Redactor());
      FAIL("imported a manifest with " << row);
    } catch (const InputError& e) {
      CHECK_THAT(e.what(), Catch::Contains("manifest.json") && Catch::Contains("services[0]."));
    }
    CHECK_FALSE(target.service("api").has_value());
  }
}
