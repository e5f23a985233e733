#include "drift/diff.hpp"

#include "helpers.hpp"

#include <catch2/catch.hpp>

using namespace gostly::drift;
using gostly::drift::testing::response;
using gostly::drift::testing::session;

namespace {

std::vector<RouteDrift> compare(const SessionFingerprint& a, const SessionFingerprint& b, std::uint64_t min_samples = 10) {
  return diff(a, b, DiffOptions{min_samples});
}

const Signal* find(const std::vector<RouteDrift>& drifts, const std::string& kind, const std::string& field = "") {
  for (const auto& d : drifts)
    for (const auto& s : d.signals)
      if (s.kind == kind && s.field == field) return &s;
  return nullptr;
}

std::string user(int n) {
  return R"({"id":)" + std::to_string(n) + R"(,"name":"user-)" + std::to_string(n) +
         R"(","request_id":"3f2504e0-4f89-11d3-9a0c-0305e82c33)" + std::to_string(10 + n % 90) + R"("})";
}

} // namespace

TEST_CASE("drift::diff: new values of the same shape are not drift", "[drift]") {
  auto a = session(12, "/users/1", 200, [](int n) { return user(n); });
  auto b = session(12, "/users/1", 200, [](int n) { return user(n + 40); });
  CHECK(compare(a, b).empty());
}

TEST_CASE("drift::diff: a removed field is major, an added field minor", "[drift]") {
  auto a = session(3, "/u", 200, [](int) { return R"({"id":1,"name":"x"})"; });
  auto b = session(3, "/u", 200, [](int) { return R"({"id":1,"tier":"gold"})"; });
  auto drifts = compare(a, b);
  REQUIRE(drifts.size() == 1);
  REQUIRE(find(drifts, "field_removed", "name"));
  CHECK(find(drifts, "field_removed", "name")->severity == Severity::major);
  REQUIRE(find(drifts, "field_added", "tier"));
  CHECK(find(drifts, "field_added", "tier")->severity == Severity::minor);
  CHECK(drifts[0].change_type == "mixed");
  CHECK(drifts[0].severity == Severity::major);
}

TEST_CASE("drift::diff: only the added field fires a minor field_added event", "[drift]") {
  auto a = session(1, "/u", 200, [](int) { return R"({"id":1})"; });
  auto b = session(1, "/u", 200, [](int) { return R"({"id":1,"tier":"gold"})"; });
  auto drifts = compare(a, b);
  REQUIRE(drifts.size() == 1);
  CHECK(drifts[0].change_type == "field_added");
  CHECK(drifts[0].severity == Severity::minor);
}

TEST_CASE("drift::diff: a nested removal is reported once, at the topmost missing path", "[drift]") {
  auto a = session(2, "/u", 200, [](int) { return R"({"address":{"city":"c","geo":{"lat":1}}})"; });
  auto b = session(2, "/u", 200, [](int) { return R"({"address":{"city":"c"}})"; });
  auto drifts = compare(a, b);
  REQUIRE(drifts.size() == 1);
  CHECK(drifts[0].signals.size() == 1);
  CHECK(find(drifts, "field_removed", "address.geo"));
}

TEST_CASE("drift::diff: a required field changing type is major, an optional one minor", "[drift]") {
  auto a = session(4, "/u", 200, [](int n) { return n % 2 ? R"({"age":30,"nick":"a"})" : R"({"age":31})"; });
  auto b = session(4, "/u", 200, [](int n) { return n % 2 ? R"({"age":"30","nick":5})" : R"({"age":"31"})"; });
  auto drifts = compare(a, b);
  REQUIRE(find(drifts, "type_changed", "age"));
  CHECK(find(drifts, "type_changed", "age")->severity == Severity::major);
  CHECK(find(drifts, "type_changed", "age")->baseline == "integer");
  CHECK(find(drifts, "type_changed", "age")->current == "string");
  REQUIRE(find(drifts, "type_changed", "nick"));
  CHECK(find(drifts, "type_changed", "nick")->severity == Severity::minor);
}

TEST_CASE("drift::diff: types are null-tolerant; integer to fractional is a change when the baseline could show it", "[drift]") {
  auto a = session(4, "/u", 200, [](int n) { return n % 2 ? R"({"a":1,"p":10})" : R"({"a":null,"p":10})"; });
  auto b = session(4, "/u", 200, [](int n) { return n % 2 ? R"({"a":2,"p":10.5})" : R"({"a":3,"p":10.5})"; });
  CHECK(find(compare(a, b), "type_changed", "a") == nullptr);
  // Issue 10 item 3: 10 -> 10.5 breaks a consumer that parses integers.
  REQUIRE(find(compare(a, b), "type_changed", "p"));
  CHECK(find(compare(a, b), "type_changed", "p")->baseline == "integer");
  CHECK(find(compare(a, b), "type_changed", "p")->current == "number");
  // Fractional back to integer narrows nothing; and 3 whole numbers could not have shown a field
  // that is fractional one time in two.
  CHECK(find(compare(b, a), "type_changed", "p") == nullptr);
  auto few = session(3, "/u", 200, [](int) { return R"({"p":10})"; });
  auto half = session(12, "/u", 200, [](int n) { return n % 2 ? R"({"p":10.5})" : R"({"p":10})"; });
  CHECK(find(compare(few, half), "type_changed", "p") == nullptr);
}

TEST_CASE("drift::diff: a stable format that breaks is major; mixed and free text never fire", "[drift]") {
  auto uuids = session(3, "/u", 200, [](int n) { return R"({"ref":"3f2504e0-4f89-11d3-9a0c-0305e82c330)" + std::to_string(n) + "\"}"; });
  auto text = session(3, "/u", 200, [](int n) { return R"({"ref":"ref number )" + std::to_string(n) + "\"}"; });
  auto drifts = compare(uuids, text);
  REQUIRE(find(drifts, "format_changed", "ref"));
  CHECK(find(drifts, "format_changed", "ref")->severity == Severity::major);
  CHECK(find(drifts, "format_changed", "ref")->baseline == "uuid");
  CHECK(find(drifts, "format_changed", "ref")->current == "text");
  CHECK(compare(text, uuids).empty());
  auto mixed = session(4, "/u", 200, [](int n) { return n % 2 ? R"({"ref":"a@b.io"})" : R"({"ref":"http://x.io/"})"; });
  CHECK(find(compare(mixed, text), "format_changed", "ref") == nullptr);
}

TEST_CASE("drift::diff: cardinality moving two buckets is major, one bucket minor", "[drift]") {
  auto unique = session(40, "/u", 200, [](int n) { return "{\"v\":" + std::to_string(n) + "}"; });
  auto constant = session(40, "/u", 200, [](int) { return R"({"v":7})"; });
  auto few = session(40, "/u", 200, [](int n) { return "{\"v\":" + std::to_string(n % 3) + "}"; });
  auto drifts = compare(unique, constant);
  REQUIRE(find(drifts, "cardinality_changed", "v"));
  CHECK(find(drifts, "cardinality_changed", "v")->severity == Severity::major);
  CHECK(find(drifts, "cardinality_changed", "v")->baseline == "unbounded");
  CHECK(find(drifts, "cardinality_changed", "v")->current == "singleton");
  drifts = compare(constant, few);
  REQUIRE(find(drifts, "cardinality_changed", "v"));
  CHECK(find(drifts, "cardinality_changed", "v")->severity == Severity::minor);
}

TEST_CASE("drift::diff: a status crossing families is major, an in-family shift minor", "[drift]") {
  auto ok = session(10, "/health", 200, [](int) { return R"({"status":"ok"})"; });
  auto down = session(10, "/health", 500, [](int) { return R"({"status":"ok"})"; });
  auto created = session(10, "/health", 201, [](int) { return R"({"status":"ok"})"; });
  auto drifts = compare(ok, down);
  REQUIRE(drifts.size() == 1);
  CHECK(drifts[0].change_type == "status_changed");
  CHECK(drifts[0].severity == Severity::major);
  drifts = compare(ok, created);
  REQUIRE(drifts.size() == 1);
  CHECK(drifts[0].severity == Severity::minor);
}

TEST_CASE("drift::diff: behavioural signals wait for the minimum sample on each side", "[drift]") {
  auto ok = session(9, "/health", 200, [](int) { return R"({"status":"ok"})"; });
  auto down = session(9, "/health", 500, [](int) { return R"({"status":"ok"})"; });
  CHECK(compare(ok, down).empty());
  CHECK(compare(ok, down, 9).size() == 1);
}

TEST_CASE("drift::diff: a doubled 5xx share fires even when 200 stays the modal status", "[drift]") {
  gostly::drift::SessionFingerprint a, b;
  for (int n = 0; n < 20; ++n) {
    a.add(response("GET", "/pay", n < 2 ? 503 : 200, R"({"ok":true})"));
    b.add(response("GET", "/pay", n < 6 ? 503 : 200, R"({"ok":true})"));
  }
  auto drifts = compare(a, b);
  REQUIRE(find(drifts, "status_distribution_changed"));
  CHECK(find(drifts, "status_distribution_changed")->severity == Severity::major);
  CHECK(find(drifts, "status_distribution_changed")->current["5xx"] == Approx(0.3));
}

TEST_CASE("drift::diff: a rising empty-response rate is a minor signal", "[drift]") {
  auto full = session(10, "/u", 200, [](int) { return R"({"id":1})"; });
  auto empty = session(10, "/u", 200, [](int n) { return n < 5 ? "{}" : R"({"id":1})"; });
  auto drifts = compare(full, empty);
  REQUIRE(find(drifts, "empty_rate_changed"));
  CHECK(find(drifts, "empty_rate_changed")->severity == Severity::minor);
  CHECK(find(drifts, "empty_rate_changed")->current == Approx(0.5));
}

TEST_CASE("drift::diff: a body that stops being an object is major", "[drift]") {
  auto object = session(2, "/u", 200, [](int) { return R"({"id":1})"; });
  auto html = session(2, "/u", 200, [](int) { return "<html></html>"; });
  auto drifts = compare(object, html);
  REQUIRE(find(drifts, "body_type_changed"));
  CHECK(drifts[0].severity == Severity::major);
}

TEST_CASE("drift::diff: a route gone (or only 404) is major, a new route minor", "[drift]") {
  SessionFingerprint a, b, c;
  a.add(response("GET", "/posts/1", 200, R"({"id":1})"));
  a.add(response("GET", "/users/1", 200, R"({"id":1})"));
  b.add(response("GET", "/posts/1", 404, R"({"error":"no route"})"));
  b.add(response("GET", "/users/1", 200, R"({"id":1})"));
  b.add(response("POST", "/users", 201, R"({"id":2})"));
  auto drifts = compare(a, b);
  REQUIRE(drifts.size() == 2);
  CHECK(drifts[0].key.route == "/posts/{id}");
  CHECK(drifts[0].change_type == "route_removed");
  CHECK(drifts[0].severity == Severity::major);
  CHECK(drifts[0].signals.size() == 1);
  CHECK(drifts[1].key.method == "POST");
  CHECK(drifts[1].change_type == "route_added");
  CHECK(drifts[1].severity == Severity::minor);
  c.add(response("GET", "/users/1", 200, R"({"id":1})"));
  CHECK(compare(a, c).size() == 1);
}

TEST_CASE("drift::diff: signals serialise value-free", "[drift]") {
  auto a = session(1, "/u", 200, [](int) { return R"({"secret":"hunter2"})"; });
  auto b = session(1, "/u", 200, [](int) { return R"({"secret":42})"; });
  auto json = signals_to_json(compare(a, b).at(0).signals).dump();
  CHECK(json.find("hunter2") == std::string::npos);
  CHECK(json.find("type_changed") != std::string::npos);
}

TEST_CASE("drift::diff: fewer samples of ever-distinct values are not a cardinality move", "[drift]") {
  // 20 unique ids are "unbounded"; 5 or 3 unique ids are only "low" because there were 5 or 3
  // calls. Every value was still distinct, so nothing says the field stopped varying.
  auto many = session(20, "/u", 200, [](int n) { return "{\"id\":" + std::to_string(n) + "}"; });
  auto five = session(5, "/u", 200, [](int n) { return "{\"id\":" + std::to_string(n + 1000) + "}"; });
  auto three = session(3, "/u", 200, [](int n) { return "{\"id\":" + std::to_string(n + 2000) + "}"; });
  CHECK(compare(many, five).empty());
  CHECK(compare(five, many).empty());
  CHECK(compare(many, three).empty());
  // A few samples that do repeat still show a real move.
  auto same = session(5, "/u", 200, [](int) { return R"({"id":7})"; });
  REQUIRE(find(compare(many, same), "cardinality_changed", "id"));
  CHECK(find(compare(many, same), "cardinality_changed", "id")->severity == Severity::major);
}

TEST_CASE("drift::diff: maps keyed by ids are healthy variance and never name the ids", "[drift]") {
  auto keyed = [](int base) {
    return [base](int n) {
      return "{\"by_id\":{\"" + std::to_string(base + n) + "\":{\"amount\":" + std::to_string(n) + "},\"" +
             std::to_string(base + n + 500) + "\":{\"amount\":1}}}";
    };
  };
  auto a = session(3, "/ledger", 200, keyed(1000));
  auto b = session(3, "/ledger", 200, keyed(7000));
  CHECK(compare(a, b).empty());
  auto c = session(3, "/ledger", 200, [](int n) { return "{\"by_id\":{\"7" + std::to_string(n) + "\":{\"amount\":\"x\"}}}"; });
  auto drifts = compare(a, c);
  REQUIRE(find(drifts, "type_changed", "by_id.{key}.amount"));
  CHECK(signals_to_json(drifts.at(0).signals).dump().find("1000") == std::string::npos);
}

TEST_CASE("drift::diff: an event says when a fingerprint limit cut the route", "[drift]") {
  // Issue 10 item 4: nesting past GOSTLY_DRIFT_MAX_DEPTH is reported, not silently dropped.
  auto body = [](bool with_name) {
    nlohmann::json deep = {{"leaf", 1}};
    for (std::size_t level = 0; level < RouteFingerprint::max_depth() + 3; ++level) deep = {{"n", deep}};
    nlohmann::json out = {{"id", 1}, {"deep", deep}};
    if (with_name) out["name"] = "x";
    return out.dump();
  };
  auto a = session(3, "/u", 200, [&](int) { return body(true); });
  auto b = session(3, "/u", 200, [&](int) { return body(false); });
  auto drifts = compare(a, b);
  REQUIRE(drifts.size() == 1);
  REQUIRE(find(drifts, "field_removed", "name"));
  REQUIRE(drifts[0].limits.is_object());
  CHECK(drifts[0].limits["depth_cut"]["baseline"] == 3);
  CHECK(drifts[0].limits["max_depth"] == RouteFingerprint::max_depth());
  auto plain_a = session(3, "/v", 200, [](int) { return R"({"id":1,"name":"x"})"; });
  auto plain_b = session(3, "/v", 200, [](int) { return R"({"id":1})"; });
  CHECK(compare(plain_a, plain_b).at(0).limits.is_null());
}
