#include "transition/verify.hpp"

#include "match/matcher.hpp"
#include "store/library_db.hpp"
#include "util/time.hpp"
#include "../support/engine_store.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

using namespace gostly;
namespace fs = std::filesystem;

namespace {

record::Interaction make(const std::string& id, const std::string& session, const std::string& method,
                         const std::string& uri, int status, const std::string& body, const std::string& request_body = {}) {
  record::Interaction i;
  i.id = id;
  i.session_id = session;
  i.recorded_at = "2026-11-30T00:00:00Z";
  i.request.method = method;
  i.request.uri = uri;
  i.request.body = request_body;
  if (!request_body.empty()) i.request.headers = {{"Content-Type", "application/json"}};
  i.response.status = status;
  i.response.headers = {{"Content-Type", "application/json"}};
  i.response.body = body;
  return i;
}

// Imports `all` into a fresh library and verifies each, in order.
transition::VerifyResult verify(const std::vector<record::Interaction>& all) {
  test_support::EngineStore fresh;
  store::LibraryDb db(fresh.location());
  {
    store::LibraryDb::Import import(db);
    for (const auto& i : all) import.add(i);
    import.commit();
  }
  transition::Verifier verifier(db);
  std::size_t n = 0;
  for (const auto& i : all) verifier.check(i, "in.jsonl:" + std::to_string(++n));
  return verifier.result();
}

} // namespace

TEST_CASE("verify: a clean library is answered as recorded, sequences within a session included", "[transition][engines]") {
  auto r = verify({make("a", "s1", "GET", "/users/1", 200, R"({"id":1})"),
                   make("b", "s1", "GET", "/jobs/7", 200, R"({"state":"pending"})"),
                   make("c", "s1", "GET", "/jobs/7", 200, R"({"state":"done"})"),
                   make("d", "s1", "POST", "/echo", 200, R"({"ok":true})", R"({"name":"ada"})")});
  CHECK(r.checked == 4);
  CHECK(r.as_recorded == 4);
  CHECK(r.problems == 0);
  CHECK(r.findings.empty());
}

TEST_CASE("verify: a duplicate recorded with another response in a later session shadows the earlier one", "[transition][engines]") {
  // The library keeps a request's recordings from the latest session that made it.
  auto r = verify({make("first", "s1", "GET", "/price", 200, R"({"eur":1})"),
                   make("second", "s2", "GET", "/price", 200, R"({"eur":2})")});
  CHECK(r.checked == 2);
  REQUIRE(r.problems == 1);
  const auto& f = r.findings.at(0);
  CHECK(f.kind == transition::VerifyFinding::Kind::shadowed);
  CHECK(f.answered_by == "second");
  CHECK(f.detail.find("session s2") != std::string::npos);
  CHECK(f.at == "in.jsonl:1");
  CHECK(f.uri == "/price");
  CHECK(f.tier == "exact");
}

TEST_CASE("verify: a per-run value is replayed fresh, as a rerun sends it, and reported when MOCK would miss it", "[transition][engines]") {
  auto cb = make("cb", "s1", "GET", "/posts?page=2&_cb=1732881234", 200, "[]");
  auto ts = make("ts", "s1", "POST", "/events", 201, R"({"ok":1})",
                 R"({"id":"6f1c2b9e-3a4d-4e5f-8a7b-9c0d1e2f3a4b","at":"2026-11-30T03:10:00Z","n":3})");
  auto r = verify({cb, ts});

  // What verify predicts must be what the cascade does with a fresh value.
  std::vector<std::string> changed;
  auto fresh = transition::rerun_request(cb.request, changed);
  REQUIRE(changed == std::vector<std::string>{"query _cb"});
  CHECK(fresh.uri == "/posts?page=2&_cb=1732881235");
  std::vector<std::string> body_changed;
  auto fresh_post = transition::rerun_request(ts.request, body_changed);
  CHECK(body_changed == std::vector<std::string>{"body $.at", "body $.id"});
  CHECK(fresh_post.body.find("3a4c") != std::string::npos); // the uuid's last hex digit moved on
  CHECK(fresh_post.body.find("\"n\":3") != std::string::npos); // a small number is no timestamp

  match::ServiceMatcher matcher;
  matcher.load_library({cb, ts});
  bool get_misses = matcher.match(fresh).tier == match::Tier::miss;
  bool post_misses = matcher.match(fresh_post).tier == match::Tier::miss;
  CHECK(r.problems == static_cast<std::uint64_t>(get_misses) + static_cast<std::uint64_t>(post_misses));
  for (const auto& f : r.findings) {
    CHECK(f.kind == transition::VerifyFinding::Kind::per_run_value);
    CHECK(f.detail.find("per-run value") != std::string::npos);
  }
  if (get_misses) CHECK(r.findings.at(0).detail.find("query _cb") != std::string::npos);
}

TEST_CASE("verify: nothing to freshen leaves the request as it is", "[transition][engines]") {
  record::Request plain;
  plain.uri = "/users/42?sort=name&limit=10";
  plain.body = R"({"count":12})";
  plain.headers = {{"Content-Type", "application/json"}};
  std::vector<std::string> changed;
  auto out = transition::rerun_request(plain, changed);
  CHECK(changed.empty());
  CHECK(out.uri == plain.uri);
  CHECK(out.body == plain.body);
}
