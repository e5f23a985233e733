#include "util/encoding.hpp"

#include <catch2/catch.hpp>

using gostly::util::percent_decode;

TEST_CASE("util::percent_decode: escapes decoded, malformed ones kept, + a space only for forms", "[util]") {
  CHECK(percent_decode("a%20b%2Fc") == "a b/c");
  CHECK(percent_decode("%e9t%C3%A9") == std::string("\xe9t\xc3\xa9"));
  CHECK(percent_decode("100%") == "100%");
  CHECK(percent_decode("%4") == "%4");
  CHECK(percent_decode("%zz%41") == "%zzA");
  CHECK(percent_decode("a+b") == "a+b");
  CHECK(percent_decode("a+b%2B", true) == "a b+");
  CHECK(percent_decode("") == "");
}
