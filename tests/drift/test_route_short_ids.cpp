// Drift templates routes by the same id rule as match (tests/match/test_short_ids.cpp).
#include "drift/route.hpp"
#include "match/smart_swap.hpp"

#include <catch2/catch.hpp>

using namespace gostly;

TEST_CASE("drift::route: short prefixed ids such as ch_1 and cus_1 become {id}, as in match", "[drift]") {
  for (const char* id : {"ch_1", "cus_1", "pi_7", "sub_12", "ch_1001"}) {
    INFO(id);
    CHECK(drift::is_identifier_segment(id));
    CHECK(drift::is_identifier_segment(id) == match::is_id_segment(id));
  }
  CHECK(drift::template_path("/v1/charges/ch_1") == "/v1/charges/{id}");
  CHECK(drift::template_path("/v1/customers/cus_1/sources") == "/v1/customers/{id}/sources");
}

TEST_CASE("drift::route: v1, api, users and word_digit names stay literal beside short ids", "[drift]") {
  for (const char* word : {"v1", "api", "users", "api-v2", "page-2", "read_more", "API_1", "settings_v1"}) {
    INFO(word);
    CHECK_FALSE(drift::is_identifier_segment(word));
  }
  CHECK(drift::template_path("/api/v1/users") == "/api/v1/users");
}
