#include "export/postman.hpp"

#include "helpers.hpp"
#include "seed/seed.hpp"
#include "util/limits.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <sstream>

using namespace export_test;
using gostly::export_::PostmanOptions;
using gostly::export_::write_postman;
using Json = nlohmann::json;

namespace {

std::string export_text(const std::vector<Interaction>& records, PostmanOptions options = {}) {
  TextSource in(jsonl(records));
  std::ostringstream out;
  write_postman(in.source, options, out);
  return out.str();
}

Json folder(const Json& collection, const std::string& name) {
  for (const auto& f : collection["item"])
    if (f["name"] == name) return f;
  FAIL("no folder " << name);
  return {};
}

std::vector<Interaction> with_second_user() {
  auto records = sample();
  auto other = make("GET", "/users/7", 200, R"({"id":7,"name":"Bo"})");
  other.request.headers.emplace_back("Authorization", "Bearer live-secret-token");
  records.push_back(other);
  return records;
}

} // namespace

TEST_CASE("export::postman: v2.1 collection, a folder per path template, responses as examples", "[export][postman]") {
  PostmanOptions options;
  options.name = "Payments (recorded)";
  auto collection = Json::parse(export_text(with_second_user(), options));
  CHECK(collection["info"]["name"] == "Payments (recorded)");
  CHECK(collection["info"]["schema"] == "https://schema.getpostman.com/json/collection/v2.1.0/collection.json");

  std::vector<std::string> folders;
  for (const auto& f : collection["item"]) folders.push_back(f["name"]);
  CHECK(folders == std::vector<std::string>{"/users/{id}", "/users", "/blobs/{id}", "/binary", "/missing"});

  auto users = folder(collection, "/users/{id}");
  REQUIRE(users["item"].size() == 1); // one request per method: GET
  const auto& get = users["item"][0];
  CHECK(get["name"] == "GET /users/{id}");
  CHECK(get["request"]["method"] == "GET");
  CHECK(get["request"]["url"]["raw"] == "{{baseUrl}}/users/42?fields=name%20email&x=1&flag");
  CHECK(get["request"]["url"]["host"] == Json::array({"{{baseUrl}}"}));
  CHECK(get["request"]["url"]["path"] == Json::array({"users", "42"}));
  CHECK(get["request"]["url"]["query"][0] == Json({{"key", "fields"}, {"value", "name%20email"}}));
  REQUIRE(get["response"].size() == 2);
  CHECK(get["response"][0]["code"] == 200);
  CHECK(get["response"][0]["status"] == "OK");
  CHECK(get["response"][0]["body"] == R"({"id":42,"name":"Ann"})");
  CHECK(get["response"][0]["_postman_previewlanguage"] == "json");
  CHECK(get["response"][1]["originalRequest"]["url"]["raw"] == "{{baseUrl}}/users/7");
  CHECK(get["response"][1]["body"] == R"({"id":7,"name":"Bo"})");
  // newman checks the recorded status.
  CHECK(get["event"][0]["listen"] == "test");
  CHECK(get["event"][0]["script"]["exec"][0].get<std::string>().find("have.status(200)") != std::string::npos);

  // The base URL is a collection variable; the Host header is newman's to set.
  bool base = false;
  for (const auto& v : collection["variable"])
    if (v["key"] == "baseUrl") base = v["value"] == "http://127.0.0.1:3000";
  CHECK(base);
  for (const auto& h : get["request"]["header"]) CHECK(h["key"] != "Host");

  // Another origin keeps its own URL.
  CHECK(folder(collection, "/missing")["item"][0]["request"]["url"]["raw"] == "https://api.example.com/missing");

  auto post = folder(collection, "/users")["item"][0];
  CHECK(post["request"]["body"]["mode"] == "raw");
  CHECK(post["request"]["body"]["raw"] == R"({"name":"Bo"})");
  CHECK(post["request"]["body"]["options"]["raw"]["language"] == "json");
  CHECK(post["response"][0]["code"] == 201);

  // A gzip answer is saved decoded, as Postman shows it, without its Content-Encoding.
  auto zipped = folder(collection, "/binary")["item"][0]["response"][0];
  CHECK(zipped["body"] == R"({"compressed":true})");
  for (const auto& h : zipped["header"]) CHECK(h["key"] != "Content-Encoding");
}

TEST_CASE("export::postman: credentials become variables to fill in, never the secret", "[export][postman]") {
  std::string text = export_text(with_second_user());
  CHECK(text.find("live-secret-token") == std::string::npos);
  auto collection = Json::parse(text);
  auto get = folder(collection, "/users/{id}")["item"][0];
  bool auth = false;
  for (const auto& h : get["request"]["header"])
    if (h["key"] == "Authorization") auth = h["value"] == "{{authorization}}";
  CHECK(auth);
  bool second = false;
  for (const auto& h : get["response"][1]["originalRequest"]["header"])
    if (h["key"] == "Authorization") second = h["value"] == "{{authorization}}";
  CHECK(second);
  bool variable = false;
  for (const auto& v : collection["variable"])
    if (v["key"] == "authorization") variable = v["value"] == "";
  CHECK(variable);
}

TEST_CASE("export::postman: gostly-seed postman reads the collection back", "[export][postman]") {
  auto records = with_second_user();
  std::istringstream in(export_text(records));
  gostly::seed::SeedOptions options;
  options.service = "api";
  std::vector<Interaction> back;
  gostly::seed::import(gostly::seed::Format::postman, in, "out.postman.json", options,
                       [&](Interaction&& i) { back.push_back(std::move(i)); });
  REQUIRE(back.size() == records.size());
  // Examples come back grouped by route: /users/42 and /users/7 first.
  CHECK(back[0].request.uri == "/users/42?fields=name%20email&x=1&flag");
  CHECK(back[1].request.uri == "/users/7");
  CHECK(back[1].response.body == R"({"id":7,"name":"Bo"})");
  CHECK(back[2].request.method == "POST");
  CHECK(back[2].request.body == R"({"name":"Bo"})");
  CHECK(back[2].response.status == 201);
}

TEST_CASE("export::postman: many interactions on few routes stay grouped in recorded order", "[export][postman]") {
  std::vector<Interaction> records;
  for (int i = 0; i < 3000; ++i) {
    const char* path = i % 3 == 0 ? "/users/" : i % 3 == 1 ? "/posts/" : "/orders/";
    records.push_back(make("GET", path + std::to_string(i), 200, "{\"n\":" + std::to_string(i) + "}"));
  }
  auto collection = Json::parse(export_text(records));
  REQUIRE(collection["item"].size() == 3);
  for (int f = 0; f < 3; ++f) {
    const auto& examples = collection["item"][f]["item"][0]["response"];
    REQUIRE(examples.size() == 1000);
    CHECK(examples[999]["body"] == "{\"n\":" + std::to_string(2997 + f) + "}");
  }
}

TEST_CASE("export::postman: more routes than GOSTLY_EXPORT_MAX_ROUTES is a named limit error", "[export][postman]") {
  ::setenv("GOSTLY_EXPORT_MAX_ROUTES", "2", 1);
  std::vector<Interaction> records = {make("GET", "/a", 200, "{}"), make("GET", "/b", 200, "{}"),
                                      make("GET", "/c", 200, "{}")};
  try {
    export_text(records);
    FAIL("no error");
  } catch (const gostly::util::LimitError& e) {
    CHECK(std::string(e.what()).find("GOSTLY_EXPORT_MAX_ROUTES") != std::string::npos);
  }
  ::unsetenv("GOSTLY_EXPORT_MAX_ROUTES");
}

TEST_CASE("export::postman: a header value that is not UTF-8 is written as text, not an exception", "[export][postman]") {
  auto records = sample();
  records[0].request.headers.emplace_back("X-Label", std::string("caf\xe9", 4));
  records[0].response.headers.emplace_back("X-Label", std::string("cr\xe8me", 5));
  PostmanOptions options;
  options.name = std::string("bad \xff name", 10);
  Json collection;
  REQUIRE_NOTHROW(collection = Json::parse(export_text(records, options)));
  CHECK(collection["info"]["name"] == "bad \xEF\xBF\xBD name");
  CHECK(collection.dump().find("caf\xEF\xBF\xBD") != std::string::npos);
}
