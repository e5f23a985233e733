// Short prefixed ids (`ch_1`, `cus_1`): one rule for match's tiers (and drift, tests/drift/test_route_short_ids.cpp).
#include "match/matcher.hpp"
#include "match/resources.hpp"
#include "match/smart_swap.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace gostly;
using namespace gostly::match;

TEST_CASE("match::ids: short prefixed ids such as ch_1 and cus_1 are ids", "[match]") {
  for (const char* id : {"ch_1", "cus_1", "pi_7", "sub_12", "in_123", "price_9", "ch_1001"}) {
    INFO(id);
    CHECK(is_id_segment(id));
  }
  CHECK(make_template("/v1/customers/cus_1").path == "/v1/customers/{id}");
}

TEST_CASE("match::ids: words, versions and word_digit names stay literal", "[match]") {
  for (const char* word : {"v1", "v2", "api", "users", "api-v2", "oauth2", "h2", "page-2", "top-10", "read_more",
                           "API_1", "_1", "ch_", "ch_1a", "settings_v1", "address_line2"}) {
    INFO(word);
    CHECK_FALSE(is_id_segment(word));
  }
  CHECK(make_template("/api/v1/users").id_positions.empty());
}

TEST_CASE("match::ids: statechart and swap tiers act on short ids", "[match]") {
  auto recording = [](std::string method, std::string uri, std::string body) {
    record::Interaction i;
    i.request.method = std::move(method);
    i.request.uri = std::move(uri);
    i.response.headers = {{"Content-Type", "application/json"}};
    i.response.body = std::move(body);
    return i;
  };
  auto request = [](std::string method, std::string uri) {
    record::Request r;
    r.method = std::move(method);
    r.uri = std::move(uri);
    return r;
  };
  auto target = parse_resource_path("/v1/charges/ch_1/capture");
  REQUIRE(target);
  CHECK(target->collection == "/v1/charges");
  CHECK(target->id == "ch_1");
  CHECK(target->action == "capture");

  ServiceMatcher m;
  m.load_library({recording("GET", "/v1/charges/ch_1", R"({"id":"ch_1","status":"pending"})"),
                  recording("GET", "/v1/customers/cus_1", R"({"id":"cus_1","name":"ann"})")});
  auto captured = m.match(request("POST", "/v1/charges/ch_1/capture"));
  CHECK(captured.tier == Tier::resource_transition);
  CHECK(captured.transition == "charge:pending->succeeded");
  auto swapped = m.match(request("GET", "/v1/customers/cus_2"));
  REQUIRE(swapped.tier == Tier::smart_swap);
  CHECK(nlohmann::json::parse(swapped.response->body).at("id") == "cus_2");
}
