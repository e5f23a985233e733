#include "util/limits.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

using namespace gostly;

TEST_CASE("util::parse_json refuses nesting past the limit and names the byte", "[util][limits]") {
  std::string deep = std::string(50000, '[') + std::string(50000, ']');
  try {
    (void)util::parse_json(deep, 256);
    FAIL("no LimitError");
  } catch (const util::LimitError& e) {
    CHECK(e.byte() == 256);
    CHECK(std::string(e.what()).find("GOSTLY_MAX_DEPTH") != std::string::npos);
  }
  CHECK_THROWS_AS(util::parse_ordered_json(R"({"a":{"b":{"c":1}}})", 2), util::LimitError);
}

TEST_CASE("util::parse_json parses what nlohmann parses, up to the limit", "[util][limits]") {
  auto value = util::parse_json(R"({"a":[1,{"b":"[[[["}],"c":null})", 3);
  CHECK(value["a"][1]["b"] == "[[[[");
  CHECK(util::parse_ordered_json(R"({"z":1,"a":2})").begin().key() == "z");
  CHECK_THROWS_AS(util::parse_json("{\"a\":", 8), nlohmann::json::parse_error);
  CHECK_THROWS_AS(util::parse_json("[1] x", 8), nlohmann::json::parse_error);
}

TEST_CASE("util::limit_from_env reads positive integers only", "[util][limits]") {
  ::setenv("GOSTLY_TEST_LIMIT", "12", 1);
  CHECK(util::limit_from_env("GOSTLY_TEST_LIMIT", 5) == 12);
  ::setenv("GOSTLY_TEST_LIMIT", "0", 1);
  CHECK_THROWS_AS(util::limit_from_env("GOSTLY_TEST_LIMIT", 5), UsageError);
  ::setenv("GOSTLY_TEST_LIMIT", "12x", 1);
  CHECK_THROWS_AS(util::limit_from_env("GOSTLY_TEST_LIMIT", 5), UsageError);
  ::unsetenv("GOSTLY_TEST_LIMIT");
  CHECK(util::limit_from_env("GOSTLY_TEST_LIMIT", 5) == 5);
}
