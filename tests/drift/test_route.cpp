#include "drift/route.hpp"

#include <catch2/catch.hpp>

using gostly::drift::template_path;

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
