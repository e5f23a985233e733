#include "seed/seed.hpp"

#include "helpers.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace seed_test;
using gostly::seed::Format;

TEST_CASE("seed::postman: saved examples become interactions, the rest is reported", "[seed][postman]") {
  auto r = import_file(Format::postman, fixture("postman/collection-v2.json"));
  CHECK(r.report.entries == 7);
  CHECK(r.report.missing_examples == 5);
  REQUIRE(r.records.size() == 2);
  const auto& ok = r.records[0];
  CHECK(ok.request.method == "GET");
  CHECK(ok.request.host == "echo.getpostman.com");
  CHECK(ok.request.uri == "/status/200");
  CHECK(ok.response.status == 200);
  CHECK(ok.response.reason == "OK"); // from "200 OK"
  CHECK(ok.response.body == "response body");
  CHECK(header(ok.response.headers, "content-type") == "application/json");
  CHECK(header(ok.response.headers, "authorization") == "gostly-redacted"); // the floor applies to seeds too
  CHECK(ok.source == "postman");
  CHECK(ok.service_id == "default");
  CHECK(r.warnings.size() == 5);
  CHECK_THAT(r.warnings[3], Catch::Contains("/item/2/item/3/item/0/item/0: request 'This is a folder / my-folder-2 / "
                                            "This is a blank / gg not found' has no saved response"));
}

TEST_CASE("seed::postman: --placeholder seeds requests without examples, marked as such", "[seed][postman]") {
  gostly::seed::SeedOptions options;
  options.placeholder = true;
  auto r = import_file(Format::postman, fixture("postman/newman-sample-collection.json"), options);
  REQUIRE(r.records.size() == 3);
  CHECK(r.report.missing_examples == 3);
  CHECK(r.warnings.empty());
  CHECK(r.records[0].request.uri == "/get?source=newman-sample-github-collection");
  CHECK(r.records[0].extra["seed"]["placeholder"] == true);
  CHECK(r.records[1].request.body.rfind("Duis posuere", 0) == 0);
  CHECK(r.records[2].response.status == 200);
  CHECK(r.records[2].response.body.empty());
}

TEST_CASE("seed::postman: v2.1 folders, variable scopes and body modes", "[seed][postman]") {
  gostly::seed::SeedOptions options;
  options.vars = {{"newName", "Hedy"}};
  auto r = import_file(Format::postman, data("collection-v21.json"), options);
  CHECK(r.report.entries == 4);
  CHECK(r.report.skipped == 1); // {{otherHost}} has no value
  CHECK(r.report.missing_examples == 1);
  REQUIRE(r.records.size() == 3);

  const auto& found = r.records[0];
  CHECK(found.request.host == "crm.example.com");
  CHECK(found.request.uri == "/api/customers/11?verbose=1"); // the folder's customerId wins over the collection's
  CHECK(found.response.body == R"({"id": 11, "name": "Grace"})");
  CHECK(found.extra["seed"]["example"] == "found");
  CHECK(r.records[1].response.status == 404);
  CHECK(r.records[1].request.uri == "/api/customers/999");

  const auto& created = r.records[2];
  CHECK(created.request.method == "POST");
  CHECK(created.request.uri == "/api/customers");
  CHECK(created.request.body == R"({"name": "Hedy"})");
  CHECK(header(created.request.headers, "content-type") == "application/json");

  // The item's own request has {{apiKey}} in a header: a warning, not a failure; it is also a
  // credential header and never written.
  bool warned = false;
  for (const auto& w : r.warnings) warned = warned || w.find("unresolved variable {{apiKey}}") != std::string::npos;
  CHECK(warned);
  bool reported = false;
  for (const auto& w : r.warnings)
    reported = reported || w.find("/item/2/request/url: unresolved variable {{otherHost}} (give it with --var otherHost=VALUE)") != std::string::npos;
  CHECK(reported);
}

TEST_CASE("seed::postman: --var wins over collection variables", "[seed][postman]") {
  gostly::seed::SeedOptions options;
  options.vars = {{"baseUrl", "http://localhost:9000"}, {"otherHost", "http://ping.test"}, {"customerId", "5"}};
  auto r = import_file(Format::postman, data("collection-v21.json"), options);
  CHECK(r.report.skipped == 0);
  REQUIRE(r.records.size() == 4);
  CHECK(r.records[0].request.host == "localhost:9000");
  CHECK(r.records[0].request.uri == "/customers/5?verbose=1");
  CHECK(r.records[3].request.host == "ping.test");
  CHECK(r.records[3].response.body == "pong");
}

TEST_CASE("seed::postman: placeholder form-data body leaves files out", "[seed][postman]") {
  gostly::seed::SeedOptions options;
  options.placeholder = true;
  options.vars = {{"otherHost", "http://ping.test"}};
  auto r = import_file(Format::postman, data("collection-v21.json"), options);
  REQUIRE(r.records.size() == 5);
  const auto& form = r.records[3];
  CHECK(form.request.uri == "/api/forms");
  CHECK_THAT(form.request.body, Catch::Contains("name=\"title\"\r\n\r\nhello\r\n"));
  CHECK_THAT(header(form.request.headers, "content-type"), Catch::StartsWith("multipart/form-data; boundary="));
}

TEST_CASE("seed::postman: strict mode fails on the unresolved URL variable", "[seed][postman]") {
  gostly::seed::SeedOptions options;
  options.on_bad_entry = gostly::seed::OnBadEntry::fail;
  options.vars = {{"newName", "x"}};
  size_t delivered = 0;
  std::ifstream in(data("collection-v21.json"));
  try {
    gostly::seed::import(Format::postman, in, "c.json", options, [&](gostly::record::Interaction&&) { ++delivered; });
    FAIL("no error");
  } catch (const gostly::InputError& e) {
    CHECK(e.field() == "/item/2/request/url");
  }
  CHECK(delivered == 0); // a collection is validated whole before anything is delivered
}

TEST_CASE("seed::postman: not a v2 collection", "[seed][postman]") {
  CHECK_THROWS_WITH(import_text(Format::postman, R"({"name": "x", "requests": []})"), Catch::Contains("v1 is not supported"));
  CHECK_THROWS_WITH(import_text(Format::postman, R"({"item": []})"), Catch::Contains("/info: missing"));
  CHECK_THROWS_WITH(import_text(Format::postman, "{\"info\": {}, \n\"item\": [,]}"), Catch::Contains("<test>:2: column"));
}

TEST_CASE("seed::postman: the golden output of collection-v21.json", "[seed][postman][golden]") {
  // Regenerate after a deliberate change with: gostly-seed postman --var newName=Hedy
  //   tests/seed/data/collection-v21.json > tests/seed/data/collection-v21.json.expected.jsonl
  gostly::seed::SeedOptions options;
  options.vars = {{"newName", "Hedy"}};
  auto r = import_file(Format::postman, data("collection-v21.json"), options);
  CHECK(r.jsonl() == read_file(data("collection-v21.json.expected.jsonl")));
}

TEST_CASE("seed::postman: path variables take their values from the URL's variable list", "[seed][postman]") {
  auto r = import_file(Format::postman, data("path-variables-v21.json"));
  REQUIRE(r.records.size() == 2);
  // The example's originalRequest carries its own values (43, 8), not the item's (42, 7).
  CHECK(r.records[0].request.uri == "/v1/orders/43/lines/8?expand=items");
  CHECK(r.records[0].request.host == "shop.example.com");
  CHECK(r.records[1].request.uri == "/v1/orders/:orderId"); // no value: sent as Postman sends it
  bool warned = false;
  for (const auto& w : r.warnings) warned = warned || w.find("path variable :orderId has no value") != std::string::npos;
  CHECK(warned);

  gostly::seed::SeedOptions options;
  options.placeholder = true;
  auto item = import_text(Format::postman, R"({"info": {"schema": "v2.1"}, "variable": [{"key": "id", "value": "5"}],
    "item": [{"name": "n", "request": {"url": {"raw": "http://a.test/orders/:orderId",
      "variable": [{"key": "orderId", "value": "{{id}}"}]}}}]})", options);
  REQUIRE(item.records.size() == 1);
  CHECK(item.records[0].request.uri == "/orders/5"); // a {{variable}} inside a path variable's value
}

TEST_CASE("seed::postman: a variable's value may name another variable", "[seed][postman]") {
  auto r = import_file(Format::postman, data("path-variables-v21.json"));
  CHECK(r.records[0].request.host == "shop.example.com"); // {{baseUrl}} = {{host}}/v1
  CHECK(r.report.skipped == 1);                           // {{loop}} = {{loop}} never resolves
  bool reported = false;
  for (const auto& w : r.warnings) reported = reported || w.find("/item/2/request/url: variable {{loop}} is a cycle (loop -> loop)") != std::string::npos;
  CHECK(reported);

  gostly::seed::SeedOptions options;
  options.vars = {{"host", "http://localhost:9000"}};
  auto local = import_file(Format::postman, data("path-variables-v21.json"), options);
  REQUIRE_FALSE(local.records.empty());
  CHECK(local.records[0].request.host == "localhost:9000"); // --var reaches through {{baseUrl}}
  CHECK(local.records[0].request.uri == "/v1/orders/43/lines/8?expand=items");
}

TEST_CASE("seed::postman: an example whose originalRequest is a plain URL keeps the item's method and body", "[seed][postman]") {
  // Postman writes `"originalRequest": "https://..."` for some saved examples; that string has no
  // method, which is the item's, not GET.
  auto r = import_text(Format::postman, R"({
    "info": {"name": "c", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
    "item": [
      {"name": "create", "request": {"method": "POST", "url": "http://a.test/orders",
                                     "header": [{"key": "Content-Type", "value": "application/json"}],
                                     "body": {"mode": "raw", "raw": "{\"sku\":\"x\"}"}},
       "response": [{"name": "created", "originalRequest": "http://a.test/orders?from=example",
                     "code": 201, "status": "Created", "body": "{\"id\":1}"}]},
      {"name": "update", "request": {"method": "PUT", "url": "http://a.test/orders/1"},
       "response": [{"name": "updated", "originalRequest": {"url": "http://a.test/orders/1?v=2"},
                     "code": 200, "body": "{}"}]},
      {"name": "read", "request": {"method": "GET", "url": "http://a.test/orders/1"},
       "response": [{"name": "deleted", "originalRequest": {"method": "DELETE", "url": "http://a.test/orders/1"},
                     "code": 204}]}
    ]})");
  REQUIRE(r.records.size() == 3);
  const auto& created = r.records[0];
  CHECK(created.request.method == "POST");
  CHECK(created.request.uri == "/orders?from=example"); // the example's URL
  CHECK(created.request.body == R"({"sku":"x"})");      // the item's body and headers
  CHECK(header(created.request.headers, "content-type") == "application/json");
  CHECK(r.records[1].request.method == "PUT"); // an object without a method
  CHECK(r.records[1].request.uri == "/orders/1?v=2");
  CHECK(r.records[2].request.method == "DELETE"); // an example's own method still wins
}
