#include "seed/schema_example.hpp"

#include "seed/common.hpp"

#include <catch2/catch.hpp>

using gostly::seed::Direction;
using gostly::seed::SchemaExample;
using Json = nlohmann::ordered_json;

namespace {
Json synth(const Json& doc, const Json& schema, Direction direction = Direction::response) {
  SchemaExample examples(doc);
  return examples.generate(schema, direction, "/s");
}
} // namespace

TEST_CASE("seed::SchemaExample: explicit values win in a fixed order", "[seed][schema]") {
  Json doc = Json::object();
  CHECK(synth(doc, Json::parse(R"({"type":"string","example":"ex","default":"d","enum":["e"]})")) == "ex");
  CHECK(synth(doc, Json::parse(R"({"type":"string","examples":["first","second"]})")) == "first");
  CHECK(synth(doc, Json::parse(R"({"const":7})")) == 7);
  CHECK(synth(doc, Json::parse(R"({"type":"string","default":"d","enum":["e"]})")) == "d");
  CHECK(synth(doc, Json::parse(R"({"type":"string","enum":["e","f"]})")) == "e");
}

TEST_CASE("seed::SchemaExample: scalars follow type, format and bounds", "[seed][schema]") {
  Json doc = Json::object();
  CHECK(synth(doc, Json::parse(R"({"type":"string","format":"email"})")) == "user@example.com");
  CHECK(synth(doc, Json::parse(R"({"type":"string","format":"date"})")) == "2024-01-01");
  CHECK(synth(doc, Json::parse(R"({"type":"string","maxLength":3})")) == "str");
  CHECK(synth(doc, Json::parse(R"({"type":"integer"})")) == 1);
  CHECK(synth(doc, Json::parse(R"({"type":"integer","minimum":5,"exclusiveMinimum":true})")) == 6);
  CHECK(synth(doc, Json::parse(R"({"type":"integer","exclusiveMinimum":5})")) == 6); // 3.1 numeric form
  CHECK(synth(doc, Json::parse(R"({"type":"integer","maximum":0})")) == 0);
  CHECK(synth(doc, Json::parse(R"({"type":"number","minimum":0.25})")) == 0.25);
  CHECK(synth(doc, Json::parse(R"({"type":["null","boolean"]})")) == true);
  CHECK(synth(doc, Json::parse(R"({"type":"array","items":{"type":"integer"},"minItems":2})")) == Json::parse("[1,1]"));
  CHECK(synth(doc, Json::parse(R"({"type":"array","items":{"type":"integer"},"maxItems":0})")) == Json::array());
  CHECK(synth(doc, Json::parse(R"({"additionalProperties":{"type":"integer"}})")) == Json::parse(R"({"key":1})"));
}

TEST_CASE("seed::SchemaExample: a self-referencing schema terminates", "[seed][schema]") {
  Json doc = Json::parse(R"({"components":{"schemas":{
    "Tree":{"type":"object","required":["left"],"properties":{
      "value":{"type":"integer"},"left":{"$ref":"#/components/schemas/Tree"},"right":{"$ref":"#/components/schemas/Tree"}}},
    "A":{"type":"object","properties":{"b":{"$ref":"#/components/schemas/B"}}},
    "B":{"type":"object","properties":{"a":{"$ref":"#/components/schemas/A"},"n":{"type":"integer"}}}}}})");
  CHECK(synth(doc, Json::parse(R"({"$ref":"#/components/schemas/Tree"})")) == Json::parse(R"({"value":1,"left":null})"));
  CHECK(synth(doc, Json::parse(R"({"$ref":"#/components/schemas/A"})")) == Json::parse(R"({"b":{"n":1}})"));
}

TEST_CASE("seed::SchemaExample: property order follows the spec", "[seed][schema]") {
  Json doc = Json::object();
  auto value = synth(doc, Json::parse(R"({"type":"object","properties":{"zeta":{"type":"integer"},"alpha":{"type":"boolean"}}})"));
  CHECK(value.dump() == R"({"zeta":1,"alpha":true})");
}

TEST_CASE("seed::SchemaExample: bad references are entry errors with pointers", "[seed][schema]") {
  Json doc = Json::object();
  try {
    synth(doc, Json::parse(R"({"$ref":"#/components/schemas/Missing"})"));
    FAIL("no error");
  } catch (const gostly::seed::EntryError& e) {
    CHECK(e.pointer == "/s/$ref");
    CHECK(e.reason == "unresolved reference #/components/schemas/Missing");
  }
  CHECK_THROWS_AS(synth(doc, Json::parse(R"({"$ref":"other.yaml#/Pet"})")), gostly::seed::EntryError);
}

TEST_CASE("seed::SchemaExample: multipleOf moves a number to the next multiple", "[seed][schema]") {
  Json doc = Json::object();
  CHECK(synth(doc, Json::parse(R"({"type":"number","multipleOf":0.25,"minimum":3.1})")) == 3.25);
  CHECK(synth(doc, Json::parse(R"({"type":"integer","multipleOf":10})")) == 10);
  CHECK(synth(doc, Json::parse(R"({"type":"integer","multipleOf":5,"minimum":6,"maximum":9})")) == 5); // below the max
  CHECK(synth(doc, Json::parse(R"({"type":"integer","multipleOf":3,"minimum":6})")) == 6);
}

TEST_CASE("seed::SchemaExample: uniqueItems arrays hold distinct items", "[seed][schema]") {
  Json doc = Json::parse(R"({"components":{"schemas":{"Colour":{"type":"string","enum":["red","green","blue"]}}}})");
  CHECK(synth(doc, Json::parse(R"({"type":"array","items":{"type":"integer"},"minItems":3,"uniqueItems":true})")) ==
        Json::parse("[1,2,3]"));
  CHECK(synth(doc, Json::parse(R"({"type":"array","items":{"type":"string"},"minItems":2,"uniqueItems":true})")) ==
        Json::parse(R"(["string","string1"])"));
  CHECK(synth(doc, Json::parse(R"({"type":"array","items":{"$ref":"#/components/schemas/Colour"},"minItems":2,"uniqueItems":true})")) ==
        Json::parse(R"(["red","green"])"));
  // Without uniqueItems, copies stay equal (the simplest valid value).
  CHECK(synth(doc, Json::parse(R"({"type":"array","items":{"type":"string"},"minItems":2})")) == Json::parse(R"(["string","string"])"));
}
