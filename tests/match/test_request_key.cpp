#include "match/request_key.hpp"

#include <catch2/catch.hpp>

using namespace gostly::match;

TEST_CASE("match::request_key: JSON bodies compare regardless of key order and whitespace", "[match]") {
  CHECK(canonical_body(R"({"b":1, "a":[1,2]})") == canonical_body("{\n  \"a\": [1, 2],\n  \"b\": 1\n}"));
  CHECK(canonical_body(R"({"a":1})") != canonical_body(R"({"a":2})"));
  CHECK(canonical_body(R"([1,2])") != canonical_body(R"([2,1])"));
}

TEST_CASE("match::request_key: other bodies compare byte for byte", "[match]") {
  CHECK(canonical_body("a=1&b=2") != canonical_body("b=2&a=1"));
  CHECK(canonical_body("{not json") == canonical_body("{not json"));
  CHECK(canonical_body("{not json") != canonical_body("{not  json"));
  CHECK(canonical_body("").empty());
  // A raw body spelled like a canonical JSON form is still a different body.
  CHECK(canonical_body(R"(j:{"a":1})") != canonical_body(R"({"a":1})"));
}

TEST_CASE("match::request_key: absolute-form URIs reduce to origin form", "[match]") {
  CHECK(origin_form("http://api.example.com:8080/users/42?x=1") == "/users/42?x=1");
  CHECK(origin_form("https://api.example.com") == "/");
  CHECK(origin_form("/users/42?next=http://x/y") == "/users/42?next=http://x/y");
}
