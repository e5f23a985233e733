#include "match/miss.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace gostly::match;

TEST_CASE("match::miss: the nearest routes share the most path, then the method", "[match]") {
  std::vector<RouteRef> routes = {{"GET", "/health"},     {"POST", "/users"},  {"GET", "/users/42"},
                                  {"GET", "/orders/7"},   {"DELETE", "/users/42"}};
  auto best = nearest_routes(routes, "GET", "/users/me/profile");
  REQUIRE(best.size() == 3);
  CHECK(routes[best[0]].method == "GET");
  CHECK(routes[best[0]].uri == "/users/42");
  CHECK(routes[best[1]].uri == "/users"); // ties with DELETE /users/42; the earlier route wins
  CHECK(routes[best[2]].method == "DELETE");
  CHECK(nearest_routes(routes, "GET", "/x", 10).size() == routes.size());
  CHECK(nearest_routes({}, "GET", "/x").empty());
}

TEST_CASE("match::miss: the response is a 404 JSON body with reason and nearest", "[match]") {
  RouteRef near{"GET", "/users/42"};
  auto response = miss_response("GET", "/userz", "no recording for GET /userz", {&near}, 12);
  CHECK(response->status == 404);
  REQUIRE(response->headers.size() == 1);
  CHECK(response->headers[0].second == "application/json");
  auto body = nlohmann::json::parse(response->body);
  CHECK(body.at("reason") == "no recording for GET /userz");
  CHECK(body.at("nearest").at(0).at("uri") == "/users/42");
  CHECK(body.at("library_size") == 12);
}
