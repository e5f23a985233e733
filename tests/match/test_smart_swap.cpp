#include "match/smart_swap.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace gostly::match;

TEST_CASE("match::smart_swap: integers, UUIDs, long hex and prefixed tokens are ids", "[match]") {
  for (const char* id : {"42", "0", "2024", "123e4567-e89b-12d3-a456-426614174000", "507f1f77bcf86cd799439011",
                         "ch_3Nx8abc12XyZ", "cus_A1b2C3d4", "usr-1234", "01ARZ3NDEKTSV4RRFFQ69G5FAV"}) {
    INFO(id);
    CHECK(is_id_segment(id));
  }
}

TEST_CASE("match::smart_swap: words, versions and short mixtures are not ids", "[match]") {
  for (const char* word : {"users", "v1", "v2beta", "me", "2fa", "oauth2", "api-v2", "user-settings", "",
                           "deadbeef", "facadefacade", "123e4567-e89b-12d3-a456"}) {
    INFO(word);
    CHECK_FALSE(is_id_segment(word));
  }
}

TEST_CASE("match::smart_swap: a template replaces each id segment and keeps the rest", "[match]") {
  auto t = make_template("/v1/orgs/7/users/ch_3Nx8abc12/");
  CHECK(t.path == "/v1/orgs/{id}/users/{id}/");
  REQUIRE(t.id_positions.size() == 2);
  CHECK(t.segments[t.id_positions[0]] == "7");
  CHECK(t.segments[t.id_positions[1]] == "ch_3Nx8abc12");
  CHECK(make_template("/users/me").id_positions.empty());
  CHECK(make_template("/").path == "/");
}

TEST_CASE("match::smart_swap: a numeric id stays a number and string ids stay strings", "[match]") {
  bool changed = false;
  auto out = replace_ids(R"({"id":42,"ref":"42","url":"/users/42","n":{"owner_id":42}})", {{"42", "99"}}, true, changed);
  CHECK(changed);
  CHECK(out == R"({"id":99,"ref":"99","url":"/users/99","n":{"owner_id":99}})");
}

TEST_CASE("match::smart_swap: only whole tokens are swapped", "[match]") {
  bool changed = true;
  auto body = std::string(R"({"count":142,"tag":"v42","price":4.2,"ratio":42.5,"neg":-42,"x":"42a"})");
  CHECK(replace_ids(body, {{"42", "99"}}, true, changed) == body);
  CHECK_FALSE(changed);
}

TEST_CASE("match::smart_swap: a numeric id swapped for a non-numeric one becomes a JSON string", "[match]") {
  bool changed = false;
  auto out = replace_ids(R"({"id": 42, "self": "/users/42"})", {{"42", "abc-\"1234"}}, true, changed);
  CHECK(out == R"({"id": "abc-\"1234", "self": "/users/abc-\"1234"})");
  CHECK(nlohmann::json::parse(out).at("id") == "abc-\"1234");
}

TEST_CASE("match::smart_swap: several ids swap in one pass without chaining", "[match]") {
  bool changed = false;
  auto out = replace_ids(R"({"org":7,"user":42})", {{"7", "42"}, {"42", "8"}}, true, changed);
  CHECK(out == R"({"org":42,"user":8})");
}

TEST_CASE("match::smart_swap: plain text is swapped by token and escapes are left alone", "[match]") {
  bool changed = false;
  CHECK(replace_ids("user 42 of 420", {{"42", "99"}}, false, changed) == "user 99 of 420");
  CHECK(replace_ids(R"(["a\"42",42])", {{"42", "7"}}, true, changed) == R"(["a\"7",7])");
}

TEST_CASE("match::make_template: a declared template makes its placeholders ids, whatever they look like", "[match]") {
  auto t = make_template("/v1/users/alice/repos/42", "/v1/users/{username}/repos/{repo}");
  REQUIRE(t);
  CHECK(t->path == "/v1/users/{id}/repos/{id}");
  CHECK(t->id_positions == std::vector<std::size_t>{2, 4});
  CHECK(t->segments[2] == "alice");
  // An id standing where the declared template has a literal stays an id, as without one.
  auto mixed = make_template("/orders/2024/abc", "/orders/2024/{code}");
  REQUIRE(mixed);
  CHECK(mixed->path == "/orders/{id}/{id}");
  CHECK_FALSE(make_template("/v1/users/alice", "/v1/users/{username}/repos/{repo}"));   // shape
  CHECK_FALSE(make_template("/v2/users/alice/repos/x", "/v1/users/{username}/repos/{repo}")); // literal
  CHECK_FALSE(make_template("/v1/users//repos/x", "/v1/users/{username}/repos/{repo}"));      // empty parameter
}
