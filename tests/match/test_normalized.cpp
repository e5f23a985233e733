// The normalized tier: per-run values set aside when exact misses.
#include "match/matcher.hpp"
#include "match/normalize.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>

using namespace gostly;
using namespace gostly::match;

namespace {

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

record::Interaction recorded(std::string method, std::string uri, std::string response_body, std::string request_body = {},
                             record::Headers request_headers = {}) {
  record::Interaction i;
  i.recorded_at = util::now_iso8601();
  i.request.method = std::move(method);
  i.request.uri = std::move(uri);
  i.request.body = std::move(request_body);
  i.request.headers = std::move(request_headers);
  i.response.headers = {{"Content-Type", "application/json"}};
  i.response.body = std::move(response_body);
  return i;
}

record::Request request(std::string method, std::string uri, std::string body = {}, record::Headers headers = {}) {
  record::Request r;
  r.method = std::move(method);
  r.uri = std::move(uri);
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

std::string multipart(const std::string& boundary, const std::string& note, const std::string& file) {
  return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n" + note + "\r\n--" + boundary +
         "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n" +
         file + "\r\n--" + boundary + "--\r\n";
}

std::string miss_reason(const Answer& answer) {
  REQUIRE(answer.tier == Tier::miss);
  return nlohmann::json::parse(answer.response->body).at("reason").get<std::string>();
}

} // namespace

TEST_CASE("match::normalized: the tier's header value and metric label", "[match]") {
  CHECK(header_value(Tier::normalized) == "normalized");
  CHECK(metric_label(Tier::normalized) == "normalized");
}

TEST_CASE("match::normalized: multipart bodies compare part by part, whatever the boundary", "[match]") {
  auto type = [](const std::string& b) { return record::Headers{{"Content-Type", "multipart/form-data; boundary=" + b}}; };
  ServiceMatcher m;
  m.load_library({recorded("POST", "/upload", R"({"stored":true})", multipart("AaB03x", "hello", "file bytes"), type("AaB03x"))});

  auto same = m.match(request("POST", "/upload", multipart("----x9Z7q", "hello", "file bytes"), type("\"----x9Z7q\"")));
  CHECK(same.tier == Tier::normalized);
  CHECK(same.response->body == R"({"stored":true})");

  CHECK(miss_reason(m.match(request("POST", "/upload", multipart("b2", "hello", "other bytes"), type("b2")))) ==
        "POST /upload was recorded, but multipart part 2 `file` content differs (11 bytes, recorded 10)");
  CHECK(miss_reason(m.match(request("POST", "/upload", multipart("b3", "bye", "file bytes"), type("b3")))) ==
        "POST /upload was recorded, but multipart part 1 `note` content differs (3 bytes, recorded 5)");
  // A part of a per-run format (a fresh uuid in a form field) compares by format.
  ServiceMatcher ids;
  ids.load_library({recorded("POST", "/upload", "{}", multipart("b", "123e4567-e89b-12d3-a456-426614174000", "x"), type("b"))});
  CHECK(ids.match(request("POST", "/upload", multipart("c", "9b2f1c3e-0000-4000-8000-00000000abcd", "x"), type("c"))).tier ==
        Tier::normalized);
}

TEST_CASE("match::normalized: JSON with a fresh uuid and timestamp compares as data", "[match]") {
  auto now = now_seconds();
  ServiceMatcher m;
  m.load_library({recorded("POST", "/orders", R"({"accepted":true})",
                           R"({"request_id":"123e4567-e89b-12d3-a456-426614174000","at":"2026-11-30T03:00:00Z",)"
                           R"("ts":)" + std::to_string(now - 60) + R"(,"amount":10,"items":[{"sku":"a"}]})")});
  auto fresh = R"({"items":[{"sku":"a"}],"amount":10,"ts":)" + std::to_string(now) +
               R"(,"at":"2026-12-01T09:15:42.123+01:00","request_id":"f47ac10b-58cc-4372-a567-0e02b2c3d479"})";
  auto a = m.match(request("POST", "/orders", fresh));
  CHECK(a.tier == Tier::normalized);
  CHECK(a.response->body == R"({"accepted":true})");

  auto other = R"({"items":[{"sku":"a"}],"amount":12,"ts":)" + std::to_string(now) +
               R"(,"at":"2026-12-01T09:15:42Z","request_id":"f47ac10b-58cc-4372-a567-0e02b2c3d479"})";
  CHECK(miss_reason(m.match(request("POST", "/orders", other))) ==
        "POST /orders was recorded, but body field `amount` differs: 12 vs recorded 10");
  auto not_a_uuid = R"({"items":[{"sku":"a"}],"amount":10,"ts":)" + std::to_string(now) +
                    R"(,"at":"2026-12-01T09:15:42Z","request_id":"nope"})";
  CHECK(miss_reason(m.match(request("POST", "/orders", not_a_uuid))) ==
        "POST /orders was recorded, but body field `request_id` differs: \"nope\" vs recorded \"123e4567-e89b-12d3-a456-426614174000\"");
  auto old_time = R"({"items":[{"sku":"a"}],"amount":10,"ts":1000000000,)"
                  R"("at":"2026-12-01T09:15:42Z","request_id":"f47ac10b-58cc-4372-a567-0e02b2c3d479"})";
  CHECK(m.match(request("POST", "/orders", old_time)).tier == Tier::miss); // not "now": data
}

TEST_CASE("match::normalized: query parameters in any order", "[match]") {
  ServiceMatcher m;
  m.load_library({recorded("GET", "/search?q=wool%20hat&page=2&sort=asc", R"({"page":2})"),
                  recorded("GET", "/search?q=wool%20hat&page=3&sort=asc", R"({"page":3})")});
  auto a = m.match(request("GET", "/search?sort=asc&page=3&q=wool+hat"));
  CHECK(a.tier == Tier::normalized);
  CHECK(a.response->body == R"({"page":3})");
  CHECK(miss_reason(m.match(request("GET", "/search?sort=asc&page=4&q=wool+hat"))) ==
        "GET /search was recorded, but query `page` differs: 4 vs recorded 2");
  CHECK(miss_reason(m.match(request("GET", "/search?sort=asc&page=2"))) ==
        "GET /search was recorded, but query `q` is missing (recorded wool hat)");
}

TEST_CASE("match::normalized: cache-busters are ignored, by name, by format, or because they never repeat", "[match]") {
  auto now = std::to_string(now_seconds());
  ServiceMatcher m;
  m.load_library({recorded("GET", "/posts?_=" + now + "000&page=1", R"({"by":"epoch"})"),
                  recorded("GET", "/feed?_cb=17", R"({"by":"name"})"),
                  recorded("GET", "/news?v=a8f31c9&page=1", R"({"by":"never repeats","n":1})"),
                  recorded("GET", "/news?v=b7e20d4&page=1", R"({"by":"never repeats","n":2})"),
                  recorded("GET", "/news?v=c6d1fe5&page=2", R"({"by":"never repeats","n":3})"),
                  recorded("GET", "/status", R"({"status":"ok"})")});
  CHECK(m.match(request("GET", "/posts?page=1&_=" + now + "999")).tier == Tier::normalized);
  CHECK(m.match(request("GET", "/feed?_cb=93")).response->body == R"({"by":"name"})");
  CHECK(m.match(request("GET", "/status?cb=1732881234567")).tier == Tier::normalized); // a cache-buster's name
  // Ties replay in recorded order, then the last repeats.
  CHECK(m.match(request("GET", "/news?v=fresh01&page=1")).response->body == R"({"by":"never repeats","n":1})");
  CHECK(m.match(request("GET", "/news?v=fresh02&page=1")).response->body == R"({"by":"never repeats","n":2})");
  CHECK(m.match(request("GET", "/news?v=fresh03&page=1")).response->body == R"({"by":"never repeats","n":2})");
  CHECK(m.match(request("GET", "/news?v=fresh04&page=2")).response->body == R"({"by":"never repeats","n":3})");
  m.reset_cursors();
  CHECK(m.match(request("GET", "/news?v=fresh05&page=1")).response->body == R"({"by":"never repeats","n":1})");
  // A value recorded for a page number is data, not a cache-buster.
  CHECK(m.match(request("GET", "/news?v=x&page=3")).tier == Tier::miss);
  CHECK(m.match(request("GET", "/posts?page=2&_=" + now)).tier == Tier::miss);
}

TEST_CASE("match::normalized: form bodies compare as data, in any field order", "[match]") {
  record::Headers form{{"Content-Type", "application/x-www-form-urlencoded"}};
  ServiceMatcher m;
  m.load_library({recorded("POST", "/login", R"({"ok":true})", "user=ann&nonce=9f86d081884c7d659a2feaa0c55ad015&remember=1", form)});
  CHECK(m.match(request("POST", "/login", "remember=1&user=ann&nonce=0a1b2c3d4e5f60718293a4b5c6d7e8f9", form)).tier ==
        Tier::normalized);
  CHECK(miss_reason(m.match(request("POST", "/login", "remember=1&user=bob&nonce=0a1b2c3d4e5f60718293a4b5c6d7e8f9", form))) ==
        "POST /login was recorded, but body field `user` differs: bob vs recorded ann");
}

TEST_CASE("match::normalized: exact still answers first, and a recording that creates a resource registers it", "[match]") {
  ServiceMatcher m;
  m.load_library({recorded("POST", "/users", R"({"id":7,"name":"ann"})", R"({"name":"ann","idempotency_key":"123e4567-e89b-12d3-a456-426614174000"})"),
                  recorded("GET", "/health?x=1", "ok")});
  CHECK(m.match(request("GET", "/health?x=1")).tier == Tier::exact);
  auto created = m.match(request("POST", "/users", R"({"name":"ann","idempotency_key":"f47ac10b-58cc-4372-a567-0e02b2c3d479"})"));
  CHECK(created.tier == Tier::normalized);
  auto later = m.match(request("GET", "/users/7"));
  CHECK(later.tier == Tier::resource_store);
}

TEST_CASE("match::normalized: prepared bytes for the tier are made once, on its first answer", "[match]") {
  int calls = 0;
  ServiceMatcher m([&](const record::Response& r, Tier tier) {
    ++calls;
    return std::make_shared<const std::string>(std::string(header_value(tier)) + ":" + r.body);
  });
  m.load_library({recorded("GET", "/a?x=1&y=2", "A")});
  CHECK(calls == 1);
  auto first = m.match(request("GET", "/a?y=2&x=1"));
  REQUIRE(first.prepared);
  CHECK(*first.prepared == "normalized:A");
  auto second = m.match(request("GET", "/a?y=2&x=1"));
  CHECK(second.prepared == first.prepared);
  CHECK(calls == 2);
}

TEST_CASE("match::normalize: volatile formats and pairs", "[match]") {
  auto now = now_seconds();
  CHECK(volatile_format("123e4567-e89b-12d3-a456-426614174000", now) == Volatile::uuid);
  CHECK(volatile_format("2026-11-30T03:00:00Z", now) == Volatile::timestamp);
  CHECK(volatile_format("2026-11-30", now) == Volatile::none); // a date is data
  CHECK(volatile_format(std::to_string(now), now) == Volatile::epoch_seconds);
  CHECK(volatile_json_format(nlohmann::json(now * 1000), now) == Volatile::epoch_millis);
  CHECK(volatile_json_format(nlohmann::json(10), now) == Volatile::none);
  CHECK(volatile_format("9f86d081884c7d659a2feaa0c55ad015", now) == Volatile::nonce);
  CHECK(volatile_format("wool-hat", now) == Volatile::none);
  auto pairs = parse_pairs("b=2&a=x+y&b=1&c&a=%2Fz");
  CHECK(pairs == Pairs{{"a", "x y"}, {"a", "/z"}, {"b", "2"}, {"b", "1"}, {"c", ""}});
  std::vector<Part> parts;
  CHECK_FALSE(parse_multipart("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx", "b", parts)); // unterminated
}


TEST_CASE("match::normalize: hostile multipart, form and JSON bodies parse bounded or fall back to bytes", "[match]") {
  std::vector<Part> parts;
  CHECK_FALSE(parse_multipart("--b\r\n\r\nx\r\n--b", "b", parts));         // no closing delimiter
  CHECK_FALSE(parse_multipart("x--b\r\n\r\nx\r\n--b--", "b", parts));      // delimiter not at a line start
  CHECK_FALSE(parse_multipart("--b--", "", parts));
  parts.clear();
  CHECK(parse_multipart("--b\r\n\r\n--b-x\r\n--b--\r\n", "b", parts)); // the boundary inside content
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].content == "--b-x");
  std::string many;
  for (std::size_t i = 0; i <= kMaxMultipartParts; ++i) many += "--b\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nv\r\n";
  parts.clear();
  CHECK_FALSE(parse_multipart(many + "--b--\r\n", "b", parts)); // past the part limit: compared as bytes

  // Truncations and byte flips of each kind of body: never a crash, and a request equal to the
  // recording always matches.
  auto type = record::Headers{{"Content-Type", "multipart/form-data; boundary=\"q;x\""}};
  std::string body = multipart("q;x", "123e4567-e89b-12d3-a456-426614174000", "data");
  std::string json = R"({"a":[1,{"b":"2026-11-30T03:00:00Z"}],"c":"x"})";
  std::string form = "a=%zz&b=1&&=&c=%41";
  ServiceMatcher m;
  m.load_library({recorded("POST", "/m?x=%", "{}", body, type), recorded("POST", "/j", "{}", json),
                  recorded("POST", "/f", "{}", form, {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}})});
  std::uint32_t seed = 7;
  auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  for (const auto& [uri, original, headers] : {std::tuple{"/m?x=%", body, type}, std::tuple{"/j", json, record::Headers{}},
                                               std::tuple{"/f", form, record::Headers{{"Content-Type", "application/x-www-form-urlencoded"}}}}) {
    CHECK(m.match(request("POST", uri, original, headers)).tier == Tier::exact);
    for (int i = 0; i < 500; ++i) {
      std::string mutated = original.substr(0, next() % (original.size() + 1));
      if (!mutated.empty() && i % 2) mutated[next() % mutated.size()] = static_cast<char>(next());
      auto answer = m.match(request("POST", uri, mutated, headers));
      CHECK(answer.response);
    }
  }
}
