// Schema inference for gostly-export openapi: types, nullable, required, enums, formats, arrays,
// data-keyed maps and the field/depth limits.
#include "export/openapi_schema.hpp"

#include <catch2/catch.hpp>

using gostly::export_::OrderedJson;
using gostly::export_::SchemaLimits;
using gostly::export_::SchemaTree;
using gostly::export_::typed_value;
using nlohmann::json;

namespace {
OrderedJson infer(std::initializer_list<const char*> samples, SchemaLimits limits = {}) {
  SchemaTree tree(limits);
  for (const char* s : samples) tree.add(json::parse(s));
  return tree.schema();
}
} // namespace

TEST_CASE("openapi schema: scalar types and integer/number folding") {
  auto s = infer({R"({"i":1,"f":1.5,"b":true,"s":"x","n":2})", R"({"i":2,"f":2,"b":false,"s":"y","n":2.5})"});
  CHECK(s["type"] == "object");
  CHECK(s["properties"]["i"]["type"] == "integer");
  CHECK(s["properties"]["f"]["type"] == "number");
  CHECK(s["properties"]["n"]["type"] == "number");
  CHECK(s["properties"]["b"]["type"] == "boolean");
  CHECK(s["properties"]["s"]["type"] == "string");
}

TEST_CASE("openapi schema: nullable fields are 3.1 type lists with null") {
  auto s = infer({R"({"a":"x","b":null})", R"({"a":null,"b":null})"});
  CHECK(s["properties"]["a"]["type"] == OrderedJson::array({"string", "null"}));
  CHECK(s["properties"]["b"]["type"] == "null");
  CHECK_FALSE(s["properties"]["a"].contains("nullable"));
}

TEST_CASE("openapi schema: required only when present in every sample of the parent") {
  auto s = infer({R"({"id":1,"nick":"a","addr":{"city":"x","zip":"1"}})", R"({"id":2,"addr":{"city":"y"}})",
                  R"({"id":3,"addr":null})"});
  CHECK(s["required"] == OrderedJson::array({"addr", "id"}));
  // city was present in both objects (the null parent does not count against it), zip in one
  CHECK(s["properties"]["addr"]["required"] == OrderedJson::array({"city"}));
  CHECK(s["properties"]["addr"]["type"] == OrderedJson::array({"object", "null"}));
}

TEST_CASE("openapi schema: formats from the drift classifier, only when every value has it") {
  auto s = infer({R"({"u":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","t":"2026-11-01T10:00:00Z","e":"a@b.io","w":"https://x.io/a","d":"2026-11-01","m":"a@b.io"})",
                  R"({"u":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","t":"2026-11-02T10:00:00+01:00","e":"c@d.io","w":"http://y.io","d":"2026-11-02","m":"plain"})"});
  CHECK(s["properties"]["u"]["format"] == "uuid");
  CHECK(s["properties"]["t"]["format"] == "date-time");
  CHECK(s["properties"]["e"]["format"] == "email");
  CHECK(s["properties"]["w"]["format"] == "uri");
  CHECK(s["properties"]["d"]["format"] == "date");
  CHECK_FALSE(s["properties"]["m"].contains("format"));
}

TEST_CASE("openapi schema: enums for low-cardinality repeated strings only") {
  std::vector<std::string> samples;
  for (int i = 0; i < 12; ++i)
    samples.push_back(R"({"status":")" + std::string(i % 3 == 0 ? "open" : i % 3 == 1 ? "closed" : "draft") +
                      R"(","name":"name-)" + std::to_string(i) + R"(","kind":"post","maybe":)" +
                      (i % 2 ? "null" : R"("a")") + "}");
  SchemaTree tree;
  for (const auto& s : samples) tree.add(json::parse(s));
  auto s = tree.schema();
  CHECK(s["properties"]["status"]["enum"] == OrderedJson::array({"closed", "draft", "open"}));
  CHECK_FALSE(s["properties"]["name"].contains("enum")); // 12 distinct values: data, not a choice
  CHECK(s["properties"]["kind"]["enum"] == OrderedJson::array({"post"}));
  CHECK(s["properties"]["maybe"]["enum"] == OrderedJson::array({"a", nullptr})); // null allowed by type too
  // two samples of two values: too few to call it an enum
  auto few = infer({R"({"s":"a"})", R"({"s":"b"})"});
  CHECK_FALSE(few["properties"]["s"].contains("enum"));
  SchemaLimits no_enums;
  no_enums.enums = false;
  SchemaTree plain(no_enums);
  for (const auto& s2 : samples) plain.add(json::parse(s2));
  CHECK_FALSE(plain.schema()["properties"]["status"].contains("enum"));
}

TEST_CASE("openapi schema: array items merged across elements and samples") {
  auto s = infer({R"([{"id":1,"tags":["a"]},{"id":2}])", R"([{"id":3,"tags":[],"extra":null}])", R"([])"});
  CHECK(s["type"] == "array");
  auto item = s["items"];
  CHECK(item["type"] == "object");
  CHECK(item["required"] == OrderedJson::array({"id"}));
  CHECK(item["properties"]["tags"]["items"]["type"] == "string");
  CHECK(item["properties"]["extra"]["type"] == "null");
  auto mixed = infer({R"({"v":[1,"a",null]})"});
  CHECK(mixed["properties"]["v"]["items"]["type"] == OrderedJson::array({"string", "integer", "null"}));
}

TEST_CASE("openapi schema: maps keyed by ids become additionalProperties") {
  auto s = infer({R"({"by_id":{"3f2504e0-4f89-11d3-9a0c-0305e82c3301":{"n":1},"6ba7b810-9dad-11d1-80b4-00c04fd430c8":{"n":2}}})"});
  auto by_id = s["properties"]["by_id"];
  CHECK_FALSE(by_id.contains("properties"));
  CHECK(by_id["additionalProperties"]["properties"]["n"]["type"] == "integer");
}

TEST_CASE("openapi schema: field and depth limits bound the tree and are counted") {
  SchemaLimits limits;
  limits.max_fields = 4; // the root and three fields
  SchemaTree tree(limits);
  tree.add(json::parse(R"({"a":1,"b":2,"c":3,"d":4,"e":5})"));
  CHECK(tree.nodes() == 4);
  CHECK(tree.fields_dropped() == 2);
  CHECK(tree.schema()["properties"].size() == 3);

  SchemaLimits shallow;
  shallow.max_depth = 2;
  SchemaTree deep(shallow);
  deep.add(json::parse(R"({"a":{"b":{"c":1}}})"));
  CHECK(deep.depth_cut() == 1);
  CHECK(deep.schema()["properties"]["a"]["type"] == "object");
  CHECK_FALSE(deep.schema()["properties"]["a"].contains("properties"));
}

TEST_CASE("openapi schema: merging two trees equals adding all samples to one") {
  SchemaTree a, b, all;
  for (const char* s : {R"({"x":1,"s":"open"})", R"({"x":2,"s":"open"})"}) a.add(json::parse(s)), all.add(json::parse(s));
  for (const char* s : {R"({"x":null,"y":"2026-01-01"})", R"({"x":3,"s":"shut"})"}) b.add(json::parse(s)), all.add(json::parse(s));
  a.merge(b);
  CHECK(a.schema() == all.schema());
  CHECK(a.samples() == 4);
}

TEST_CASE("openapi schema: typed_value reads parameter text as the value it denotes") {
  CHECK(typed_value("42") == 42);
  CHECK(typed_value("-3") == -3);
  CHECK(typed_value("1.5") == 1.5);
  CHECK(typed_value("true") == true);
  CHECK(typed_value("007") == "007");
  CHECK(typed_value("abc") == "abc");
  CHECK(typed_value("") == "");
  CHECK(typed_value("99999999999999999999999") == "99999999999999999999999");
}
