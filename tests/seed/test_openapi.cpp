#include "seed/seed.hpp"

#include "helpers.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace seed_test;
using gostly::seed::Format;
using Json = nlohmann::json;

TEST_CASE("seed::openapi: 3.0 petstore, one record per operation and code", "[seed][openapi]") {
  auto r = import_file(Format::openapi, fixture("openapi/v3.0_petstore.json"));
  CHECK(r.report.entries == 3);
  REQUIRE(r.records.size() == 3); // `default` is left out where real codes exist
  const auto& list = r.records[0];
  CHECK(list.request.method == "GET");
  CHECK(list.request.host == "petstore.swagger.io");
  CHECK(list.request.uri == "/v1/pets");
  CHECK(list.response.status == 200);
  CHECK(Json::parse(list.response.body) == Json::parse(R"([{"id":1,"name":"string","tag":"string"}])"));
  CHECK(header(list.response.headers, "content-type") == "application/json");
  CHECK(list.extra["seed"]["operation"] == "listPets");

  const auto& create = r.records[1];
  CHECK(create.request.method == "POST");
  CHECK(Json::parse(create.request.body) == Json::parse(R"({"id":1,"name":"string","tag":"string"})"));
  CHECK(create.response.status == 201);
  CHECK(create.response.body.empty());

  const auto& show = r.records[2];
  CHECK(show.request.uri == "/v1/pets/1"); // a concrete id smart_swap can template
  CHECK(show.extra["seed"]["path_template"] == "/v1/pets/{petId}");
  for (const auto& rec : r.records) {
    CHECK(rec.source == "openapi");
    CHECK(rec.recorded_at == "1970-01-01T00:00:00.000Z");
  }
}

TEST_CASE("seed::openapi: documented examples are used verbatim", "[seed][openapi]") {
  auto r = import_file(Format::openapi, fixture("openapi/v3.0_api-with-examples.json"));
  REQUIRE(r.records.size() == 4);
  CHECK(r.records[0].response.status == 200);
  CHECK(r.records[1].response.status == 300); // 2xx first: the first answer replayed is the success
  auto body = Json::parse(r.records[0].response.body);
  CHECK(body["versions"][0]["id"] == "v2.0");
  // An example written as JSON text is sent as that text, not re-quoted.
  CHECK(Json::parse(r.records[1].response.body)["versions"][1]["status"] == "EXPERIMENTAL");
  CHECK(r.records[2].request.uri == "/v2");
  CHECK(r.records[0].extra["seed"]["body"] == "example");
}

TEST_CASE("seed::openapi: Swagger 2.0 in JSON and YAML", "[seed][openapi]") {
  auto json = import_file(Format::openapi, fixture("openapi/v2.0_json_petstore.json"));
  REQUIRE(json.records.size() == 3);
  CHECK(json.records[2].request.uri == "/v1/pets/1");
  CHECK(json.records[0].request.scheme == "http");

  auto yaml = import_file(Format::openapi, fixture("openapi/v2.0_yaml_petstore-expanded.yaml"));
  REQUIRE(yaml.records.size() == 4);
  CHECK(yaml.records[0].request.uri == "/api/pets");
  const auto& add = yaml.records[1];
  CHECK(add.request.method == "POST");
  CHECK(Json::parse(add.request.body).contains("name"));
  CHECK(Json::parse(add.response.body)["id"] == 1); // allOf of NewPet and {id}
  CHECK(yaml.records[2].request.uri == "/api/pets/1"); // integer int64 id
  CHECK(yaml.records[3].response.status == 204);
  CHECK(yaml.records[3].response.body.empty());
}

TEST_CASE("seed::openapi: a webhooks-only 3.1 document seeds nothing and says why", "[seed][openapi]") {
  auto r = import_file(Format::openapi, fixture("openapi/v3.1_webhook-example.json"));
  CHECK(r.records.empty());
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], Catch::Contains("no operations to seed (webhooks"));
}

TEST_CASE("seed::openapi: YAML 3.1 with cycles, compositions, server variables", "[seed][openapi]") {
  auto r = import_file(Format::openapi, data("cyclic.yaml"));
  CHECK(r.report.entries == 4);
  CHECK(r.report.skipped == 1); // /broken's dangling $ref
  REQUIRE(r.records.size() == 4);

  const auto& node = r.records[0];
  CHECK(node.request.scheme == "https");
  CHECK(node.request.host == "api.example.com:8443");
  CHECK(node.request.uri == "/v2/nodes/00000000-0000-4000-8000-000000000001?depth=2");
  CHECK(node.response.status == 200);
  CHECK(header(node.response.headers, "x-rate-limit") == "100");
  auto body = Json::parse(node.response.body);
  CHECK(body["id"] == "00000000-0000-4000-8000-000000000001");
  CHECK(body["created"] == "2024-01-01T00:00:00Z");
  CHECK(body["kind"] == "leaf");
  CHECK_FALSE(body.contains("secret"));      // writeOnly stays out of responses
  CHECK(body["parent"].is_null());           // required, but the cycle stops here
  CHECK(body["children"] == Json::array());  // required array: empty at the cycle
  CHECK(body["score"] == 0.5);
  CHECK(body["active"] == true);

  CHECK(r.records[1].response.status == 404);
  CHECK(Json::parse(r.records[1].response.body)["code"] == 404);

  const auto& shape = r.records[2];
  auto request = Json::parse(shape.request.body);
  CHECK_FALSE(request.contains("id")); // readOnly stays out of requests
  CHECK(request["label"] == "stringxx"); // minLength 8
  CHECK(request["geometry"]["radius"] == 2.5); // oneOf: first non-null branch, its default
  auto response = Json::parse(shape.response.body);
  CHECK(response["id"] == 10);

  CHECK(r.records[3].response.status == 200); // 2XX
  CHECK(r.records[3].response.body == "all good");
  CHECK(header(r.records[3].response.headers, "content-type") == "text/plain");

  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], Catch::Contains("/components/schemas/Nope"));
  CHECK_THAT(r.warnings[0], Catch::Contains("/paths/~1broken/get/responses/200/content/application~1json/schema/$ref"));
}

TEST_CASE("seed::openapi: same spec, same output", "[seed][openapi]") {
  auto a = import_file(Format::openapi, data("cyclic.yaml"));
  auto b = import_file(Format::openapi, data("cyclic.yaml"));
  CHECK(a.jsonl() == b.jsonl());
  CHECK(a.report.session_id == b.report.session_id);
  CHECK(a.records[1].id == a.report.session_id + "-000001");
}

TEST_CASE("seed::openapi: --base-url replaces the servers", "[seed][openapi]") {
  gostly::seed::SeedOptions options;
  options.base_url = "http://127.0.0.1:9999/mock/";
  auto r = import_file(Format::openapi, fixture("openapi/v3.0_petstore.json"), options);
  REQUIRE(!r.records.empty());
  CHECK(r.records[0].request.host == "127.0.0.1:9999");
  CHECK(r.records[0].request.uri == "/mock/pets");
}

TEST_CASE("seed::openapi: bad documents name line or pointer", "[seed][openapi]") {
  CHECK_THROWS_WITH(import_text(Format::openapi, "openapi: 3.0.0\npaths:\n  /a: [\n"), Catch::Contains("<test>:4: column"));
  CHECK_THROWS_WITH(import_text(Format::openapi, "info: {}\n"), Catch::Contains("/openapi: missing or unsupported version"));
  CHECK_THROWS_WITH(import_text(Format::openapi, R"({"swagger": "1.2"})"), Catch::Contains("/swagger: unsupported version"));
  gostly::seed::SeedOptions strict;
  strict.on_bad_entry = gostly::seed::OnBadEntry::fail;
  CHECK_THROWS_WITH(import_text(Format::openapi, R"({"openapi": "3.0.3", "paths": {"/a": {"get": {}}}})", strict),
                    Catch::Contains("/paths/~1a/get/responses: missing"));
}

TEST_CASE("seed::openapi: the golden output of cyclic.yaml", "[seed][openapi][golden]") {
  // Regenerate after a deliberate change with:
  //   gostly-seed openapi tests/seed/data/cyclic.yaml > tests/seed/data/cyclic.yaml.expected.jsonl
  auto r = import_file(Format::openapi, data("cyclic.yaml"));
  CHECK(r.jsonl() == read_file(data("cyclic.yaml.expected.jsonl")));
}

TEST_CASE("seed::openapi: a path item given as a $ref is seeded like any other", "[seed][openapi]") {
  auto r = import_text(Format::openapi, R"({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
    "paths": {
      "/things/{id}": {"$ref": "#/components/pathItems/Thing"},
      "/gone": {"$ref": "#/components/pathItems/Nope"}},
    "components": {"pathItems": {"Thing": {"get": {
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
      "responses": {"200": {"description": "ok", "content": {"application/json": {"example": {"id": 7}}}}}}}}}})");
  CHECK(r.report.entries == 2);
  CHECK(r.report.skipped == 1); // the dangling one is a bad entry, not silently nothing
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].request.uri == "/things/1");
  CHECK(r.records[0].response.body == R"({"id":7})");
  CHECK(r.records[0].extra["seed"]["path_template"] == "/things/{id}");
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], Catch::Contains("/paths/~1gone/$ref: unresolved reference #/components/pathItems/Nope"));
}

TEST_CASE("seed::openapi: YAML merge keys (<<) merge mappings into schemas, explicit keys win", "[seed][openapi]") {
  // A schema built with `<<: *base` (and a list of aliases) used to come out as {} and seed an
  // empty body.
  auto r = import_text(Format::openapi, R"(openapi: 3.0.0
info: {title: t, version: '1'}
x-parts:
  base: &base
    type: object
    required: [id, name]
    properties: &props
      id: {type: integer, example: 7}
      name: {type: string, example: ann}
  extra: &extra
    properties:
      role: {type: string, example: admin}
paths:
  /users/{id}:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                <<: *base
                description: a user
  /admins/{id}:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  <<: [*props, {name: {type: string, example: shadowed}}]
                  level: {type: integer, example: 3}
  /quoted:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  "<<": {type: string, example: literal}
)");
  REQUIRE(r.records.size() == 3);
  CHECK(Json::parse(r.records[0].response.body) == Json::parse(R"({"id":7,"name":"ann"})"));
  // A list merges in order: the first mapping that has a key wins, and keys of the map itself win over both.
  CHECK(Json::parse(r.records[1].response.body) == Json::parse(R"({"id":7,"name":"ann","level":3})"));
  // A quoted "<<" is an ordinary key.
  CHECK(Json::parse(r.records[2].response.body) == Json::parse(R"({"<<":"literal"})"));
}
