// Hostile inputs (issue 7): every importer has explicit limits, and hitting one is an InputError
// naming the input, the place and the limit (exit 2), never a crash, a hang or gigabytes of RAM.
// The inputs are generated here, a few bytes each, to show the amplification they attempt.
#include "seed/seed.hpp"

#include "helpers.hpp"
#include "util/error.hpp"

#include "../support/scoped_env.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>

using namespace seed_test;
using gostly::seed::Format;
using Json = nlohmann::json;

namespace {

using gostly::test_support::ScopedEnv;

std::string repeat(const std::string& text, std::size_t n) {
  std::string out;
  out.reserve(text.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += text;
  return out;
}

// The message of the InputError `text` raises; fails the test when it raises nothing else.
std::string input_error(Format format, const std::string& text, gostly::seed::SeedOptions options = {}) {
  try {
    import_text(format, text, std::move(options));
  } catch (const gostly::InputError& e) {
    return e.what();
  }
  FAIL("no InputError");
  return {};
}

constexpr const char* kOpenApiHead = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\n";

std::string openapi_with_json_example(const std::string& example) {
  return R"({"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{)"
         R"("description":"ok","content":{"application/json":{"example":)" +
         example + "}}}}}}}}";
}

std::string har_with_entry_field(const std::string& field) {
  return R"({"log":{"version":"1.2","entries":[{"startedDateTime":"2024-01-01T00:00:00Z","time":1,)"
         R"("request":{"method":"GET","url":"http://h/a","httpVersion":"HTTP/1.1","headers":[]},)"
         R"("response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],"content":{"size":0}},)" +
         field + "}]}}";
}

} // namespace

// --- 1. YAML alias cycles ---------------------------------------------------------------------

TEST_CASE("seed::hostile: a cyclic YAML alias is an error naming its line, not a stack overflow", "[seed][hostile]") {
  // The 65-byte reproducer of the issue: the map anchored as &p contains *p.
  auto what = input_error(Format::openapi, std::string(kOpenApiHead) + "paths: &p\n  /a: *p\n");
  CHECK_THAT(what, Catch::Contains("<test>:4:"));
  CHECK_THAT(what, Catch::Contains("*p"));
  CHECK_THAT(what, Catch::Contains("cycle"));
  // A sequence that holds itself, in a Postman collection written as YAML.
  auto seq = input_error(Format::postman, "info: {name: c}\nitem: &i\n  - *i\n");
  CHECK_THAT(seq, Catch::Contains("<test>:3:"));
  CHECK_THAT(seq, Catch::Contains("cycle"));
}

TEST_CASE("seed::hostile: YAML aliases that are not cycles still expand", "[seed][hostile]") {
  auto r = import_text(Format::openapi, std::string(kOpenApiHead) +
                                            "x-shared:\n  ok: &ok {description: fine, content: {application/json: "
                                            "{example: {n: &n 7, list: [*n, *n]}}}}\n"
                                            "paths:\n  /a: {get: {responses: {'200': *ok}}}\n"
                                            "  /b: {get: {responses: {'200': *ok}}}\n");
  REQUIRE(r.records.size() == 2);
  CHECK(Json::parse(r.records[1].response.body) == Json::parse(R"({"n":7,"list":[7,7]})"));
}

// --- 5. YAML billion laughs ---------------------------------------------------------------------

TEST_CASE("seed::hostile: YAML billion laughs stops at the alias expansion limit", "[seed][hostile]") {
  // 10 levels x 10 aliases: 10^10 strings from about 700 bytes.
  std::string yaml = std::string(kOpenApiHead) + "x-lol:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int level = 1; level < 10; ++level) {
    std::string prev = "*l" + std::to_string(level - 1);
    yaml += "  l" + std::to_string(level) + ": &l" + std::to_string(level) + " [" + prev;
    for (int i = 1; i < 10; ++i) yaml += ", " + prev;
    yaml += "]\n";
  }
  yaml += "paths: {}\n";
  auto started = std::chrono::steady_clock::now();
  auto what = input_error(Format::openapi, yaml);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  CHECK_THAT(what, Catch::Contains("GOSTLY_MAX_YAML_EXPANSION"));
  CHECK_THAT(what, Catch::Matches("<test>:[0-9]+: .*", Catch::CaseSensitive::Yes));

  // The limit is the variable's: a small one refuses even a modest reuse.
  std::string modest = std::string(kOpenApiHead) + "x-a: &a [" + repeat("aaaaaaaa, ", 99) + "a]\nx-b: [*a, *a]\npaths: {}\n";
  CHECK_NOTHROW(import_text(Format::openapi, modest));
  ScopedEnv small("GOSTLY_MAX_YAML_EXPANSION", "1000");
  CHECK_THAT(input_error(Format::openapi, modest), Catch::Contains("GOSTLY_MAX_YAML_EXPANSION"));
}

// --- 2. Depth -------------------------------------------------------------------------------------

TEST_CASE("seed::hostile: 50 000 nested arrays in an OpenAPI example, JSON or YAML, are refused", "[seed][hostile]") {
  std::string deep = repeat("[", 50000) + repeat("]", 50000);
  auto json = input_error(Format::openapi, openapi_with_json_example(deep));
  CHECK_THAT(json, Catch::Contains("<test>:1: column "));
  CHECK_THAT(json, Catch::Contains("GOSTLY_MAX_DEPTH"));

  auto yaml = input_error(Format::openapi, std::string(kOpenApiHead) + "x-deep: " + deep + "\npaths: {}\n");
  CHECK_THAT(yaml, Catch::Contains("<test>:3:"));
  CHECK_THAT(yaml, Catch::Contains("GOSTLY_MAX_DEPTH"));

  // Block style nests the same way.
  std::string block = std::string(kOpenApiHead) + "x-deep:\n";
  for (int i = 0; i < 300; ++i) block += std::string(static_cast<std::size_t>(2 + 2 * i), ' ') + "k:\n";
  CHECK_THAT(input_error(Format::openapi, block + "paths: {}\n"), Catch::Contains("GOSTLY_MAX_DEPTH"));

  // GOSTLY_MAX_DEPTH raises it.
  std::string three_hundred = repeat("[", 300) + repeat("]", 300);
  CHECK_THROWS_AS(import_text(Format::openapi, openapi_with_json_example(three_hundred)), gostly::InputError);
  ScopedEnv deeper("GOSTLY_MAX_DEPTH", "400");
  CHECK_NOTHROW(import_text(Format::openapi, openapi_with_json_example(three_hundred)));
  CHECK_NOTHROW(import_text(Format::openapi, std::string(kOpenApiHead) + "x-deep: " + three_hundred + "\npaths: {}\n"));
}

TEST_CASE("seed::hostile: 50 000 nested arrays in a HAR entry are refused naming the entry", "[seed][hostile]") {
  std::string deep = repeat("[", 50000) + repeat("]", 50000);
  for (const char* field : {"\"comment\"", "\"_vendor\""}) { // kept or dropped, the limit holds
    auto what = input_error(Format::har, har_with_entry_field(std::string(field) + ":" + deep));
    CHECK_THAT(what, Catch::Contains("/log/entries/0/"));
    CHECK_THAT(what, Catch::Contains("byte "));
    CHECK_THAT(what, Catch::Contains("GOSTLY_MAX_DEPTH"));
    CHECK(what.size() < 600); // the pointer is cut, not 256 levels long
  }
  // Within the limit the entry imports.
  auto ok = import_text(Format::har, har_with_entry_field("\"comment\":" + repeat("[", 100) + repeat("]", 100)));
  CHECK(ok.records.size() == 1);
}

TEST_CASE("seed::hostile: 5 000 nested Postman folders are refused", "[seed][hostile]") {
  std::string collection = R"({"info":{"name":"c","schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},"item":[)";
  for (int i = 0; i < 5000; ++i) collection += R"({"name":"f","item":[)";
  collection += repeat("]}", 5000) + "]}";
  auto what = input_error(Format::postman, collection);
  CHECK_THAT(what, Catch::Contains("<test>:1: column "));
  CHECK_THAT(what, Catch::Contains("GOSTLY_MAX_DEPTH"));
}

TEST_CASE("seed::hostile: Postman graphql variables are parsed with the depth limit", "[seed][hostile]") {
  std::string deep = repeat("[", 50000) + repeat("]", 50000);
  Json collection = {{"info", {{"name", "c"}}},
                     {"item",
                      {{{"name", "q"},
                        {"request",
                         {{"method", "POST"},
                          {"url", "http://h/graphql"},
                          {"body", {{"mode", "graphql"}, {"graphql", {{"query", "{a}"}, {"variables", deep}}}}}}},
                        {"response", {{{"code", 200}, {"body", "{}"}}}}}}}};
  auto what = input_error(Format::postman, collection.dump());
  CHECK_THAT(what, Catch::Contains("/item/0/request/body/graphql/variables"));
  CHECK_THAT(what, Catch::Contains("GOSTLY_MAX_DEPTH"));
}

TEST_CASE("seed::hostile: long numeric YAML scalars are typed without a recursive regex", "[seed][hostile]") {
  // libstdc++'s std::regex_match recurses once per character: 200 000 digits overflowed the stack.
  std::string digits(200000, '7');
  auto r = import_text(Format::openapi, std::string(kOpenApiHead) +
                                            "paths:\n  /a: {get: {responses: {'200': {description: ok, content: "
                                            "{application/json: {example: {big: " + digits + ", frac: 0." + digits +
                                            ", i: -42, h: 0x1F, f: 2.5e3, s: 12a}}}}}}}\n");
  REQUIRE(r.records.size() == 1);
  auto body = Json::parse(r.records[0].response.body);
  CHECK(body["big"] == digits); // out of range for an integer: kept as text
  CHECK(body["frac"].is_number_float());
  CHECK(body["i"] == -42);
  CHECK(body["h"] == 31);
  CHECK(body["f"] == 2500.0);
  CHECK(body["s"] == "12a");
}

// --- 3. Postman variables -----------------------------------------------------------------------

namespace {
Json collection_with_variables(const Json& variables, const std::string& url, const Json& headers = Json::array()) {
  return {{"info", {{"name", "c"}}},
          {"variable", variables},
          {"item",
           {{{"name", "r"},
             {"request", {{"method", "GET"}, {"url", url}, {"header", headers}}},
             {"response", {{{"code", 200}, {"body", "ok"}}}}}}}};
}
} // namespace

TEST_CASE("seed::hostile: a self-referencing Postman variable is a cycle, not 5 GB", "[seed][hostile]") {
  Json variables = {{{"key", "a"}, {"value", repeat("{{a}}", 100)}}};
  auto started = std::chrono::steady_clock::now();
  // In a URL: the request is a bad entry naming the cycle.
  auto r = import_text(Format::postman, collection_with_variables(variables, "http://h/{{a}}").dump());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  CHECK(r.records.empty());
  CHECK(r.report.skipped == 1);
  REQUIRE(!r.warnings.empty());
  CHECK_THAT(r.warnings[0], Catch::Contains("{{a}}"));
  CHECK_THAT(r.warnings[0], Catch::Contains("cycle"));
  // In a header: left as it is, with a warning that names the cycle.
  auto h = import_text(Format::postman,
                       collection_with_variables(variables, "http://h/x", Json::array({{{"key", "X-A"}, {"value", "{{a}}"}}}))
                           .dump());
  REQUIRE(h.records.size() == 1);
  CHECK(header(h.records[0].request.headers, "X-A") == "{{a}}");
  REQUIRE(!h.warnings.empty());
  CHECK_THAT(h.warnings[0], Catch::Contains("cycle"));
  // Two variables naming each other.
  Json pair = {{{"key", "a"}, {"value", "x{{b}}"}}, {{"key", "b"}, {"value", "y{{a}}"}}};
  auto p = import_text(Format::postman, collection_with_variables(pair, "http://h/{{a}}").dump());
  CHECK(p.records.empty());
  REQUIRE(!p.warnings.empty());
  CHECK_THAT(p.warnings[0], Catch::Contains("a -> b -> a"));
}

TEST_CASE("seed::hostile: a chain of Postman variables stops at the expansion limit", "[seed][hostile]") {
  // v9 -> 10 x v8 -> ... -> v0: 10^9 bytes from a few hundred.
  Json variables = Json::array({{{"key", "v0"}, {"value", "x"}}});
  for (int i = 1; i < 10; ++i)
    variables.push_back({{"key", "v" + std::to_string(i)}, {"value", repeat("{{v" + std::to_string(i - 1) + "}}", 10)}});
  auto started = std::chrono::steady_clock::now();
  auto what = input_error(Format::postman, collection_with_variables(variables, "http://h/{{v9}}").dump());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  CHECK_THAT(what, Catch::Contains("/item/0/request/url"));
  CHECK_THAT(what, Catch::Contains("GOSTLY_MAX_VAR_EXPANSION"));

  // Ordinary nesting still resolves.
  Json nested = {{{"key", "host"}, {"value", "api.example.com"}}, {{"key", "base"}, {"value", "https://{{host}}/v1"}}};
  auto ok = import_text(Format::postman, collection_with_variables(nested, "{{base}}/users").dump());
  REQUIRE(ok.records.size() == 1);
  CHECK(ok.records[0].request.host == "api.example.com");
  CHECK(ok.records[0].request.uri == "/v1/users");
}

// --- 4. OpenAPI schema fan-out ------------------------------------------------------------------

TEST_CASE("seed::hostile: an exponential allOf fan-out stops at the schema work limit", "[seed][hostile]") {
  // Twelve schemas, each allOf 30 x $ref to the next: 30^11 visits without a budget.
  Json schemas = Json::object();
  for (int i = 0; i < 12; ++i) {
    Json all = Json::array();
    for (int j = 0; j < 30; ++j)
      all.push_back(i == 11 ? Json{{"type", "object"}, {"properties", {{"p" + std::to_string(j), {{"type", "string"}}}}}}
                            : Json{{"$ref", "#/components/schemas/S" + std::to_string(i + 1)}});
    schemas["S" + std::to_string(i)] = {{"allOf", all}};
  }
  Json spec = {{"openapi", "3.0.0"},
               {"info", {{"title", "t"}, {"version", "1"}}},
               {"components", {{"schemas", schemas}}},
               {"paths",
                {{"/a",
                  {{"get",
                    {{"responses",
                      {{"200",
                        {{"description", "ok"},
                         {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/S0"}}}}}}}}}}}}}}}}}};
  auto started = std::chrono::steady_clock::now();
  auto what = input_error(Format::openapi, spec.dump());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  CHECK_THAT(what, Catch::Contains("GOSTLY_MAX_SCHEMA_WORK"));
  CHECK_THAT(what, Catch::Contains("/components/schemas/S"));
  // Fatal even when bad entries are skipped: the spec as a whole is refused.
}

TEST_CASE("seed::hostile: one big example referenced by many responses counts against the work limit", "[seed][hostile]") {
  Json spec = {{"openapi", "3.0.0"},
               {"info", {{"title", "t"}, {"version", "1"}}},
               {"components",
                {{"examples", {{"Big", {{"value", Json(std::vector<std::string>(2000, "some text"))}}}}}}},
               {"paths", Json::object()}};
  for (int i = 0; i < 50; ++i)
    spec["paths"]["/p" + std::to_string(i)] = {
        {"get",
         {{"responses",
           {{"200",
             {{"description", "ok"},
              {"content", {{"application/json", {{"examples", {{"a", {{"$ref", "#/components/examples/Big"}}}}}}}}}}}}}}}};
  CHECK(import_text(Format::openapi, spec.dump()).records.size() == 50);
  ScopedEnv small("GOSTLY_MAX_SCHEMA_WORK", "20000");
  CHECK_THAT(input_error(Format::openapi, spec.dump()), Catch::Contains("GOSTLY_MAX_SCHEMA_WORK"));
}

// --- 6. CR/LF in what would reach the wire ------------------------------------------------------

TEST_CASE("seed::hostile: CR/LF in a HAR header or reason is fatal even when bad entries are skipped", "[seed][hostile]") {
  std::string good = R"({"startedDateTime":"2024-01-01T00:00:00Z","time":1,"request":{"method":"GET","url":"http://h/a","headers":[]},)"
                     R"("response":{"status":200,"statusText":"OK","headers":[],"content":{"size":0}}})";
  auto har = [&](const std::string& bad) { return R"({"log":{"version":"1.2","entries":[)" + good + "," + bad + "]}}"; };
  std::string value = R"({"startedDateTime":"2024-01-01T00:00:00Z","time":1,"request":{"method":"GET","url":"http://h/b","headers":[]},)"
                      R"("response":{"status":200,"statusText":"OK","headers":[{"name":"X-A","value":"1\r\nSet-Cookie: s=1"}],"content":{"size":0}}})";
  auto what = input_error(Format::har, har(value));
  CHECK_THAT(what, Catch::Contains("/log/entries/1"));
  CHECK_THAT(what, Catch::Contains("response.headers[0][1]"));
  CHECK_THAT(what, Catch::Contains("CR"));

  std::string reason = R"({"startedDateTime":"2024-01-01T00:00:00Z","time":1,"request":{"method":"GET","url":"http://h/b","headers":[]},)"
                       R"("response":{"status":200,"statusText":"OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK","headers":[],"content":{"size":0}}})";
  CHECK_THAT(input_error(Format::har, har(reason)), Catch::Contains("response.reason"));

  std::string name = R"({"startedDateTime":"2024-01-01T00:00:00Z","time":1,"request":{"method":"GET","url":"http://h/b","headers":[{"name":"X\nY","value":"1"}]},)"
                     R"("response":{"status":200,"statusText":"OK","headers":[],"content":{"size":0}}})";
  CHECK_THAT(input_error(Format::har, har(name)), Catch::Contains("request.headers[0][0]"));
}

TEST_CASE("seed::hostile: CR/LF in Postman header keys, values or status is fatal", "[seed][hostile]") {
  auto collection = [](const Json& request_headers, const Json& response) {
    return Json{{"info", {{"name", "c"}}},
                {"item",
                 {{{"name", "ok"},
                   {"request", {{"method", "GET"}, {"url", "http://h/ok"}}},
                   {"response", {{{"code", 200}, {"body", "ok"}}}}},
                  {{"name", "bad"},
                   {"request", {{"method", "GET"}, {"url", "http://h/a"}, {"header", request_headers}}},
                   {"response", {response}}}}}}
        .dump();
  };
  Json ok_response = {{"code", 200}, {"body", "ok"}};
  auto key = input_error(Format::postman, collection(Json::array({{{"key", "X-A\r\nX-B"}, {"value", "1"}}}), ok_response));
  CHECK_THAT(key, Catch::Contains("/item/1"));
  CHECK_THAT(key, Catch::Contains("request.headers[0][0]"));
  auto value = input_error(
      Format::postman,
      collection(Json::array(), {{"code", 200}, {"header", Json::array({{{"key", "X-A"}, {"value", "1\nSet-Cookie: a=b"}}})}}));
  CHECK_THAT(value, Catch::Contains("response.headers[0][1]"));
  auto status = input_error(Format::postman, collection(Json::array(), {{"code", 200}, {"status", "200 OK\r\nX: y"}}));
  CHECK_THAT(status, Catch::Contains("response.reason"));
}

TEST_CASE("seed::hostile: OpenAPI header names that are not tokens are fatal", "[seed][hostile]") {
  std::string response_header = std::string(kOpenApiHead) +
                                "paths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n"
                                "          headers:\n            \"X-A\\r\\nSet-Cookie\": {schema: {type: string, example: v}}\n";
  auto what = input_error(Format::openapi, response_header);
  CHECK_THAT(what, Catch::Contains("/paths/~1a/get"));
  CHECK_THAT(what, Catch::Contains("response.headers[0][0]"));

  std::string parameter = std::string(kOpenApiHead) +
                          "paths:\n  /a:\n    get:\n      parameters:\n        - {name: \"X Bad\", in: header, required: true, "
                          "schema: {type: string}}\n      responses: {'200': {description: ok}}\n";
  CHECK_THAT(input_error(Format::openapi, parameter), Catch::Contains("request.headers[0][0]"));
  std::string example = std::string(kOpenApiHead) +
                        "paths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n"
                        "          headers:\n            X-A: {schema: {type: string}, example: \"v\\r\\nSet-Cookie: s=1\"}\n";
  CHECK_THAT(input_error(Format::openapi, example), Catch::Contains("response.headers[0][1]"));
}

// --- Other expansions found on the way -----------------------------------------------------------

TEST_CASE("seed::hostile: a server variable whose default names itself is substituted once", "[seed][hostile]") {
  // `{v}` -> `{v}{v}` was substituted again and again: the URL doubled until memory ran out.
  auto r = import_text(Format::openapi, std::string(kOpenApiHead) +
                                            "servers: [{url: 'http://h/{v}', variables: {v: {default: '{v}{v}'}}}]\n"
                                            "paths:\n  /a: {get: {responses: {'200': {description: ok}}}}\n");
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].request.uri == "/{v}{v}/a");
}

TEST_CASE("seed::hostile: invalid UTF-8 in a YAML collection is replaced, not an unnamed type_error", "[seed][hostile]") {
  // YAML strings are not checked for UTF-8; re-encoding a header object or a GraphQL body threw.
  auto r = import_text(Format::postman,
                       "info: {name: c}\nitem:\n  - name: r\n    request: {method: POST, url: 'http://h/a', body: {mode: "
                       "graphql, graphql: {query: \"q\xff\"}}}\n    response: [{code: 200, body: ok, header: [{key: X, "
                       "value: {a: \"\xff\"}}]}]\n");
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].request.body == "{\"query\":\"q\xEF\xBF\xBD\",\"variables\":{}}");
  CHECK(header(r.records[0].response.headers, "X") == "{\"a\":\"\xEF\xBF\xBD\"}");
}

TEST_CASE("seed: values of unexpected types are input errors or tolerated, never uncaught (fuzzer finds)",
          "[seed][hostile]") {
  // A number past a double's range is an InputError, not nlohmann's out_of_range escaping.
  CHECK(input_error(Format::postman, R"({"info":{"name":"c","schema":"v2.1.0"},"item":[],"x":1e999})")
            .find("number overflow") != std::string::npos);
  CHECK(input_error(Format::openapi, openapi_with_json_example("1e999")).find("number overflow") != std::string::npos);
  // `required`/`readOnly` written as strings do not abort the import.
  auto result = import_text(Format::openapi, std::string(kOpenApiHead) +
                                                 "paths:\n  /a/{id}:\n    get:\n      parameters:\n"
                                                 "        - {name: id, in: path, required: 'yes', schema: {type: integer}}\n"
                                                 "      responses:\n        '200':\n          description: ok\n"
                                                 "          content:\n            application/json:\n              schema:\n"
                                                 "                type: object\n                properties:\n"
                                                 "                  a: {type: string, readOnly: 'no', writeOnly: 7}\n");
  REQUIRE(result.records.size() == 1);
  CHECK(result.records[0].response.status == 200);
}

TEST_CASE("seed::hostile: YAML merge keys stay within the alias expansion and depth limits", "[seed][hostile]") {
  // Billion laughs through merge keys: each level merges ten copies of the one below.
  std::string yaml = std::string(kOpenApiHead) + "x-lol:\n  m0: &m0 {a0: lol, b0: lol, c0: lol, d0: lol}\n";
  for (int level = 1; level < 10; ++level) {
    std::string prev = "*m" + std::to_string(level - 1);
    yaml += "  m" + std::to_string(level) + ": &m" + std::to_string(level) + " {k" + std::to_string(level) +
            ": [" + prev;
    for (int i = 1; i < 10; ++i) yaml += ", " + prev;
    yaml += "], <<: [" + prev;
    for (int i = 1; i < 10; ++i) yaml += ", " + prev;
    yaml += "]}\n";
  }
  yaml += "paths: {}\n";
  auto started = std::chrono::steady_clock::now();
  auto what = input_error(Format::openapi, yaml);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  CHECK_THAT(what, Catch::Contains("GOSTLY_MAX_YAML_EXPANSION"));

  // A merge key whose value is not a mapping is an error naming its line, not a silent {}.
  auto bad = input_error(Format::openapi, std::string(kOpenApiHead) + "x-a: &a [1, 2]\nx-b:\n  <<: *a\npaths: {}\n");
  CHECK_THAT(bad, Catch::Contains("<test>:5:"));
  CHECK_THAT(bad, Catch::Contains("merge key"));

  // A merged mapping adds no level, but what it brings is counted: the document, x-e, f, then
  // the maps of a, b, c (6 levels, at the limit), and of d (7, past it).
  ScopedEnv shallow("GOSTLY_MAX_DEPTH", "6");
  CHECK_NOTHROW(import_text(Format::openapi, std::string(kOpenApiHead) +
                                                 "x-d: &d {a: {b: {c: {d: 1}}}}\nx-e: {f: {<<: *d}}\npaths: {}\n"));
  auto deep = input_error(Format::openapi, std::string(kOpenApiHead) +
                                               "x-d: &d {a: {b: {c: {d: {e: 1}}}}}\nx-e: {f: {<<: *d}}\npaths: {}\n");
  CHECK_THAT(deep, Catch::Contains("GOSTLY_MAX_DEPTH"));
}
