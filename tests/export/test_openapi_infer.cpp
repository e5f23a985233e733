// The OpenAPI document inferred from interactions: templated paths, parameters, bodies per
// status and media type, scrubbed examples, servers, operationIds, YAML output.
#include "export/openapi_infer.hpp"

#include "record/body_encoding.hpp"

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <sstream>

using gostly::export_::OpenApiBuilder;
using gostly::export_::OrderedJson;
using gostly::record::Interaction;

namespace {
Interaction make(std::string method, std::string uri, int status, std::string body = {}, std::string req_body = {},
                 std::string type = "application/json") {
  Interaction i;
  i.request.method = std::move(method);
  i.request.uri = std::move(uri);
  i.request.scheme = "http";
  i.request.host = "api.example.com";
  if (!req_body.empty()) i.request.headers.push_back({"Content-Type", "application/json"});
  i.request.body = std::move(req_body);
  i.response.status = status;
  if (!body.empty()) i.response.headers.push_back({"Content-Type", type});
  i.response.body = std::move(body);
  return i;
}

std::string gzip(const std::string& text) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(static_cast<uLong>(text.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
} // namespace

TEST_CASE("openapi infer: ids in paths are templated as the drift detector does, typed path parameters") {
  OpenApiBuilder b;
  b.add(make("GET", "/posts/1", 200, R"({"id":1})"));
  b.add(make("GET", "/posts/4", 200, R"({"id":4})"));
  b.add(make("GET", "/users/3f2504e0-4f89-11d3-9a0c-0305e82c3301/posts/7", 200, "[]"));
  auto doc = b.document();
  REQUIRE(doc["paths"].contains("/posts/{id}"));
  CHECK_FALSE(doc["paths"].contains("/posts/1"));
  auto get = doc["paths"]["/posts/{id}"]["get"];
  CHECK(get["operationId"] == "getPostsById");
  CHECK(get["parameters"][0] == OrderedJson::parse(R"({"name":"id","in":"path","required":true,"schema":{"type":"integer"},"example":1})"));
  auto nested = doc["paths"]["/users/{id}/posts/{id2}"]["get"]["parameters"];
  CHECK(nested[0]["schema"]["format"] == "uuid");
  CHECK(nested[1]["name"] == "id2");
  CHECK(doc["servers"] == OrderedJson::parse(R"([{"url":"http://api.example.com"}])"));
  CHECK(doc["openapi"] == "3.1.0");
}

TEST_CASE("openapi infer: slugs are learned as parameters once a prefix has many values") {
  OpenApiBuilder b;
  for (int i = 0; i < 70; ++i) b.add(make("GET", "/products/hat-model-" + std::string(1, static_cast<char>('a' + i % 26)) + std::string(1, static_cast<char>('a' + i / 26)), 200, R"({"ok":true})"));
  b.add(make("GET", "/products", 200, "[]"));
  auto doc = b.document();
  CHECK(doc["paths"].size() == 2);
  REQUIRE(doc["paths"].contains("/products/{id}"));
  auto get = doc["paths"]["/products/{id}"]["get"];
  CHECK(get["x-gostly-samples"] == 70);
  CHECK(get["parameters"][0]["schema"]["type"] == "string");
}

TEST_CASE("openapi infer: query parameters typed, required when in every request") {
  OpenApiBuilder b;
  b.add(make("GET", "/search?q=hat&page=1", 200, "[]"));
  b.add(make("GET", "/search?q=sock&page=2&debug=true", 200, "[]"));
  b.add(make("GET", "/search?q=cap&q=cup", 200, "[]"));
  auto params = b.document()["paths"]["/search"]["get"]["parameters"];
  REQUIRE(params.size() == 3);
  CHECK(params[0]["name"] == "debug");
  CHECK(params[0]["required"] == false);
  CHECK(params[0]["schema"]["type"] == "boolean");
  CHECK(params[1]["name"] == "page");
  CHECK(params[1]["schema"]["type"] == "integer");
  CHECK(params[1]["required"] == false);
  CHECK(params[2]["name"] == "q");
  CHECK(params[2]["required"] == true);
  CHECK(params[2]["schema"]["type"] == "string");
}

TEST_CASE("openapi infer: request bodies and responses per status, non-JSON as string or binary") {
  OpenApiBuilder b;
  b.add(make("POST", "/users", 201, R"({"id":1,"name":"a"})", R"({"name":"a"})"));
  b.add(make("POST", "/users", 400, R"({"error":"bad"})", R"({"nom":"a"})"));
  b.add(make("GET", "/page", 200, "<html>hi</html>", {}, "text/html; charset=utf-8"));
  b.add(make("GET", "/blob", 200, std::string("\x89PNG\r\n\x1a\n\xff\xfe", 10), {}, "image/png"));
  b.add(make("DELETE", "/users/1", 204));
  auto doc = b.document();
  auto post = doc["paths"]["/users"]["post"];
  CHECK(post["requestBody"]["required"] == true);
  auto req = post["requestBody"]["content"]["application/json"]["schema"];
  CHECK(req["properties"].size() == 2); // name and nom, neither required
  CHECK_FALSE(req.contains("required"));
  CHECK(post["responses"]["201"]["description"] == "Created");
  CHECK(post["responses"]["201"]["content"]["application/json"]["schema"]["required"] == OrderedJson::array({"id", "name"}));
  CHECK(post["responses"]["400"]["content"]["application/json"]["schema"]["properties"]["error"]["type"] == "string");
  CHECK(doc["paths"]["/page"]["get"]["responses"]["200"]["content"]["text/html"]["schema"] == OrderedJson{{"type", "string"}});
  CHECK(doc["paths"]["/page"]["get"]["responses"]["200"]["content"]["text/html"]["example"] == "<html>hi</html>");
  CHECK(doc["paths"]["/blob"]["get"]["responses"]["200"]["content"]["image/png"]["schema"]["format"] == "binary");
  auto del = doc["paths"]["/users/{id}"]["delete"];
  CHECK_FALSE(del["responses"]["204"].contains("content"));
  CHECK_FALSE(del.contains("requestBody"));
}

TEST_CASE("openapi infer: Content-Encoding is undone before inference") {
  OpenApiBuilder b;
  auto i = make("GET", "/z", 200, gzip(R"({"zipped":true})"));
  i.response.headers.push_back({"Content-Encoding", "gzip"});
  b.add(i);
  auto bad = make("GET", "/z", 200, "not gzip at all");
  bad.response.headers.push_back({"Content-Encoding", "gzip"});
  b.add(bad);
  auto doc = b.document();
  CHECK(doc["paths"]["/z"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["zipped"]["type"] == "boolean");
  CHECK(b.undecodable() == 1);
}

TEST_CASE("openapi infer: examples come from the recordings with PII scrubbed") {
  OpenApiBuilder b;
  b.add(make("GET", "/users/1", 200, R"({"id":1,"email":"jane.doe@corp.com","phone":"+1 415 555 2671","note":"ok"})"));
  auto example = b.document()["paths"]["/users/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["example"];
  CHECK(example["id"] == 1);
  CHECK(example["email"] == "user@example.invalid");
  CHECK(example["note"] == "ok");
  CHECK(example.dump().find("jane") == std::string::npos);
}

TEST_CASE("openapi infer: operationIds are stable and unique, methods outside OpenAPI skipped") {
  CHECK(gostly::export_::operation_id("GET", "/") == "getRoot");
  CHECK(gostly::export_::operation_id("PATCH", "/posts/{id}/comments") == "patchPostsByIdComments");
  CHECK(gostly::export_::operation_id("GET", "/a-b/c_d") == "getABCD");
  OpenApiBuilder b;
  b.add(make("GET", "/a-b", 200));
  b.add(make("GET", "/a_b", 200));
  b.add(make("PROPFIND", "/dav", 207));
  auto doc = b.document();
  CHECK(doc["paths"]["/a-b"]["get"]["operationId"] == "getAB");
  CHECK(doc["paths"]["/a_b"]["get"]["operationId"] == "getAB2");
  CHECK_FALSE(doc["paths"].contains("/dav"));
  CHECK(b.methods_skipped() == 1);
}

TEST_CASE("openapi infer: one route past the limit is an error naming GOSTLY_EXPORT_MAX_ROUTES") {
  gostly::export_::InferOptions options;
  options.max_routes = 2;
  OpenApiBuilder b(options);
  for (auto path : {"/a", "/b", "/a", "/b?x=1"}) b.add(make("GET", path, 200));
  CHECK(b.operations() == 2);
  CHECK_THROWS_WITH(b.add(make("GET", "/c", 200)), Catch::Contains("GOSTLY_EXPORT_MAX_ROUTES"));
}

TEST_CASE("openapi infer: YAML output quotes what YAML would read as another type and round-trips") {
  OpenApiBuilder b;
  b.add(make("GET", "/v/1", 200, R"({"s":"true","n":"200","z":"null","x":1.5,"e":"","t":null,"l":"a: b\nc"})"));
  auto doc = b.document();
  std::ostringstream out;
  gostly::export_::emit_yaml(doc, out);
  auto yaml = YAML::Load(out.str());
  auto example = yaml["paths"]["/v/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["example"];
  CHECK(out.str().find("\"200\":") != std::string::npos);
  CHECK(example["s"].Tag() == "!");   // quoted: a string, not a boolean
  CHECK(example["n"].Tag() == "!");
  CHECK(example["z"].Tag() == "!");
  CHECK(example["x"].as<double>() == 1.5);
  CHECK(example["t"].IsNull());
  CHECK(example["l"].as<std::string>() == "a: b\nc");
  CHECK(example["e"].as<std::string>().empty());
  std::ostringstream again;
  gostly::export_::emit_yaml(doc, again);
  CHECK(out.str() == again.str()); // deterministic
}

TEST_CASE("openapi infer: parameters carry their first recorded value as example, scrubbed") {
  OpenApiBuilder b;
  b.add(make("GET", "/users/jane@corp.com/prefs?limit=2&who=bob@corp.com", 200));
  b.add(make("GET", "/users/ann@corp.com/prefs?limit=5", 200));
  auto params = b.document()["paths"]["/users/{id}/prefs"]["get"]["parameters"];
  REQUIRE(params.size() == 3);
  CHECK(params[0]["example"] == "user@example.invalid");
  CHECK(params[0]["schema"]["format"] == "email");
  CHECK(params[1]["name"] == "limit");
  CHECK(params[1]["example"] == 2);
  CHECK(params[2]["example"] == "user@example.invalid");
}
