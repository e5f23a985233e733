#include "drift/fingerprint.hpp"

#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <zlib.h>

using namespace gostly::drift;
using gostly::drift::testing::response;

TEST_CASE("drift::fingerprint: string formats are recognised and free text is text", "[drift]") {
  CHECK(classify_string("3f2504e0-4f89-11d3-9a0c-0305e82c3301") == StringFormat::uuid);
  CHECK(classify_string("2026-11-22T17:50:01.123Z") == StringFormat::iso_datetime);
  CHECK(classify_string("2026-11-22T17:50:01+02:00") == StringFormat::iso_datetime);
  CHECK(classify_string("2026-11-22") == StringFormat::date);
  CHECK(classify_string("2026-11-22 17:50:01") == StringFormat::datetime_local);
  CHECK(classify_string("2026-11-22 17:50:01Z") == StringFormat::iso_datetime);
  CHECK(classify_string("https://example.com/a?b=c") == StringFormat::url);
  CHECK(classify_string("jane@example.com") == StringFormat::email);
  CHECK(classify_string("192.168.0.1") == StringFormat::ipv4);
  CHECK(classify_string("+1 (555) 123-4567") == StringFormat::phone);
  CHECK(classify_string("42") == StringFormat::numeric_string);
  CHECK(classify_string("-3.25") == StringFormat::numeric_string);
  CHECK(classify_string("hello world") == StringFormat::text);
  CHECK(classify_string("256.1.1.1") == StringFormat::text);
  CHECK(classify_string("2026-13") == StringFormat::text);
  CHECK(classify_string("") == StringFormat::text);
}

TEST_CASE("drift::fingerprint: cardinality buckets from distinct counts", "[drift]") {
  CHECK(cardinality_bucket(1, 1000) == Cardinality::singleton);
  CHECK(cardinality_bucket(3, 1000) == Cardinality::low);
  CHECK(cardinality_bucket(10, 10) == Cardinality::low);
  CHECK(cardinality_bucket(50, 1000) == Cardinality::medium);
  CHECK(cardinality_bucket(5000, 100000) == Cardinality::high);
  CHECK(cardinality_bucket(1000000, 1000000) == Cardinality::unbounded);
  CHECK(cardinality_bucket(40, 50) == Cardinality::unbounded);
}

TEST_CASE("drift::fingerprint: the distinct sketch is exact when small and close when large", "[drift]") {
  DistinctSketch small;
  for (int i = 0; i < 100; ++i) small.add(value_hash(std::to_string(i % 37)));
  CHECK(small.estimate() == 37);
  DistinctSketch large;
  for (int i = 0; i < 200000; ++i) large.add(value_hash(std::to_string(i)));
  CHECK(large.estimate() > 170000);
  CHECK(large.estimate() < 230000);
}

TEST_CASE("drift::fingerprint: fields are flattened by path with types, presence and shapes", "[drift]") {
  SessionFingerprint fp;
  fp.add(response("GET", "/users/1", 200, R"({"id":1,"name":"a","tags":["x"],"address":{"city":"c"},"n":null})"));
  fp.add(response("GET", "/users/2", 200, R"({"id":2,"name":"b","tags":[],"address":{"city":"d"},"n":3})"));
  REQUIRE(fp.routes().size() == 1);
  const auto& [key, route] = *fp.routes().begin();
  CHECK(key.route == "/users/{id}");
  CHECK(route.samples == 2);
  CHECK(route.object_bodies() == 2);
  CHECK(route.fields.at("id").present == 2);
  CHECK(route.fields.at("id").distinct.estimate() == 2);
  CHECK(route.fields.at("tags[]").present == 1);
  CHECK(route.fields.at("address.city").dominant_type() == JsonType::string);
  CHECK(route.fields.at("n").dominant_type() == JsonType::integer); // int|null is integer
  CHECK(route.fields.at("address").modal_shape() == "object{city:string}");
}

TEST_CASE("drift::fingerprint: empty bodies, non-objects and statuses are counted per route", "[drift]") {
  SessionFingerprint fp;
  fp.add(response("DELETE", "/users/1", 204, ""));
  fp.add(response("DELETE", "/users/2", 200, "{}"));
  fp.add(response("DELETE", "/users/3", 200, "null"));
  fp.add(response("DELETE", "/users/4", 500, "<html>oops</html>"));
  fp.add(response("DELETE", "/users/5", 200, "[1,2]"));
  const auto& route = fp.routes().begin()->second;
  CHECK(route.empty == 3);
  CHECK(route.body_kinds[static_cast<std::size_t>(BodyKind::not_json)] == 1);
  CHECK(route.body_kinds[static_cast<std::size_t>(BodyKind::array)] == 1);
  CHECK(route.statuses.at(200) == 3);
  CHECK(route.family_rate(5) == Approx(0.2));
  CHECK(route.present());
}

TEST_CASE("drift::fingerprint: a route that only answers 404 is absent", "[drift]") {
  SessionFingerprint fp;
  fp.add(response("GET", "/posts/1", 404, R"({"error":"no route"})"));
  CHECK_FALSE(fp.routes().begin()->second.present());
}

TEST_CASE("drift::fingerprint: the number of paths per route is capped", "[drift]") {
  SessionFingerprint fp;
  const int n = static_cast<int>(RouteFingerprint::max_fields()) + 200;
  for (int i = 0; i < n; ++i) fp.add(response("GET", "/map", 200, "{\"k" + std::to_string(i) + "\":1}"));
  const auto& route = fp.routes().begin()->second;
  CHECK(route.fields.size() == RouteFingerprint::max_fields());
  CHECK(route.fields_dropped == 200);
}

TEST_CASE("drift::fingerprint: 600 fields and 12 levels fit; deeper nesting is counted as cut", "[drift]") {
  // Issue 10 item 4: 512 fields and 8 levels used to drop changes without a word.
  nlohmann::json body = nlohmann::json::object();
  for (int i = 0; i < 600; ++i) body["f" + std::to_string(i)] = i;
  nlohmann::json deep = {{"leaf", 1}};
  for (int level = 0; level < 11; ++level) deep = {{"n", deep}};
  body["deep"] = deep;
  SessionFingerprint fp;
  fp.add(response("GET", "/big", 200, body.dump()));
  const auto& route = fp.routes().begin()->second;
  CHECK(route.fields.count("f599") == 1);
  CHECK(route.fields.count("deep.n.n.n.n.n.n.n.n.n.n.n.leaf") == 1);
  CHECK(route.fields_dropped == 0);
  CHECK(route.depth_cut == 0);
  nlohmann::json deeper = {{"leaf", 1}};
  for (std::size_t level = 0; level < RouteFingerprint::max_depth() + 2; ++level) deeper = {{"n", deeper}};
  fp.add(response("GET", "/deeper", 200, deeper.dump()));
  CHECK(fp.routes().at(RouteKey{"GET", "/deeper"}).depth_cut == 1);
}

TEST_CASE("drift::fingerprint: shapes are recursive, sorted and value-free", "[drift]") {
  auto shape = shape_of(nlohmann::json::parse(R"({"b":[1,2.5],"a":{"y":"s","x":null},"c":[{"id":1},{"id":2}]})"));
  CHECK(shape == "object{a:object{x:null,y:string},b:array<number>,c:array<object{id:number}>}");
}

TEST_CASE("drift::fingerprint: object keys that are data fold into {key}", "[drift]") {
  CHECK(field_key("name") == "name");
  CHECK(field_key("address_line2") == "address_line2");
  CHECK(field_key("created_at") == "created_at");
  CHECK(field_key("42") == "{key}");
  CHECK(field_key("3f2504e0-4f89-11d3-9a0c-0305e82c3301") == "{key}");
  CHECK(field_key("2026-06-15") == "{key}");
  CHECK(field_key("jane@example.com") == "{key}");
  CHECK(field_key("5f3e9a0c12bd") == "{key}");
  CHECK(field_key("usr9F3kLm2Qx81Zt0") == "{key}");
  CHECK(shape_of(nlohmann::json::parse(R"({"total":2,"by_id":{"17":{"n":1},"99":{"n":2}}})")) ==
        "object{by_id:object{{key}:object{n:number}},total:number}");
  SessionFingerprint fp;
  fp.add(response("GET", "/balances", 200, R"({"accounts":{"8812":{"amount":1},"9931":{"amount":2}}})"));
  const auto& route = fp.routes().begin()->second;
  CHECK(route.fields.count("accounts.{key}.amount") == 1);
  CHECK(route.fields.count("accounts.8812") == 0);
}

TEST_CASE("drift::fingerprint: gzip-encoded bodies are decoded before fingerprinting", "[drift]") {
  std::string json = R"({"id":7,"name":"x"})";
  std::string gz(128, '\0');
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(json.data());
  z.avail_in = static_cast<uInt>(json.size());
  z.next_out = reinterpret_cast<Bytef*>(gz.data());
  z.avail_out = static_cast<uInt>(gz.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  gz.resize(z.total_out);
  deflateEnd(&z);

  SessionFingerprint fp;
  auto i = response("GET", "/things/1", 200, gz);
  i.response.headers = {{"Content-Encoding", "gzip"}};
  fp.add(i);
  auto corrupt = response("GET", "/things/2", 200, "not gzip");
  corrupt.response.headers = {{"Content-Encoding", "gzip"}};
  fp.add(corrupt);
  const auto& route = fp.routes().at(RouteKey{"GET", "/things/{id}"});
  CHECK(route.object_bodies() == 1);
  CHECK(route.fields.count("name") == 1);
  CHECK(route.undecodable == 1);
  CHECK_THAT(route.undecodable_reason, Catch::Contains("gzip"));
}
