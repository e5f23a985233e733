#include "drift/route.hpp"

#include "drift/fingerprint.hpp"
#include "helpers.hpp"

#include <catch2/catch.hpp>

using namespace gostly::drift;

TEST_CASE("drift::route: numeric, uuid, long hex and prefixed-token segments become {id}", "[drift]") {
  CHECK(template_path("/users/42") == "/users/{id}");
  CHECK(template_path("/users/42/posts/7?x=1") == "/users/{id}/posts/{id}");
  CHECK(template_path("/orders/3f2504e0-4f89-11d3-9a0c-0305e82c3301") == "/orders/{id}");
  CHECK(template_path("/blobs/0123456789abcdef0123") == "/blobs/{id}");
  CHECK(template_path("/v1/charges/ch_3MtwBwLkdIwHu7ix28a3tqPa") == "/v1/charges/{id}");
  CHECK(template_path("/customers/cus-9s8d7f6g5h") == "/customers/{id}");
}

TEST_CASE("drift::route: words, versions and short hex stay literal", "[drift]") {
  CHECK(template_path("/v1/users") == "/v1/users");
  CHECK(template_path("/user-profile/read_more") == "/user-profile/read_more");
  CHECK(template_path("/colors/beef") == "/colors/beef");
  CHECK(template_path("/health") == "/health");
  CHECK(template_path("") == "/");
  CHECK(template_path("/") == "/");
  CHECK(template_path("/a//b/") == "/a//b/");
}

TEST_CASE("drift::route: dates, emails, -1, short hex and SKUs are data segments; words are not", "[drift]") {
  CHECK(template_path("/reports/2026-06-15") == "/reports/{id}");
  CHECK(template_path("/users/jane@example.com/prefs") == "/users/{id}/prefs");
  CHECK(template_path("/items/-1") == "/items/{id}");
  CHECK(template_path("/blobs/0f6328e") == "/blobs/{id}");
  CHECK(template_path("/skus/SKU-12345") == "/skus/{id}");
  CHECK(template_path("/v1/user-profiles/address_line2") == "/v1/user-profiles/address_line2");
  CHECK(template_path("/facade/oauth2") == "/facade/oauth2");
}

TEST_CASE("drift::route: a position with many values seen in one session only is learned as a parameter", "[drift]") {
  SessionFingerprint a, b;
  const char* slugs_a[] = {"red-wool-hat", "blue-linen-sock", "green-slim-shirt", "large-red-hat"};
  const char* slugs_b[] = {"wool-blue-sock", "slim-green-hat", "linen-red-shirt"};
  for (const char* s : slugs_a) a.add(testing::response("GET", std::string("/products/") + s, 200, R"({"price":1})"));
  for (const char* s : slugs_b) b.add(testing::response("GET", std::string("/products/") + s, 200, R"({"price":2})"));
  // Endpoint names seen in both sessions stay literal routes.
  for (auto* side : {&a, &b})
    for (const char* name : {"users", "orders", "invoices", "carts"})
      side->add(testing::response("GET", std::string("/v1/") + name, 200, R"({"ok":true})"));
  learn_route_templates(a, b);
  CHECK(a.routes().count(RouteKey{"GET", "/products/{id}"}) == 1);
  CHECK(a.routes().at(RouteKey{"GET", "/products/{id}"}).samples == 4);
  CHECK(b.routes().at(RouteKey{"GET", "/products/{id}"}).samples == 3);
  CHECK(a.routes().count(RouteKey{"GET", "/v1/users"}) == 1);
  CHECK(a.routes().size() == 5);
}
