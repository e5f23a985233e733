#include "serve/engine.hpp"

#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace gostly;

TEST_CASE("serve::parse_route: host and path-prefix routes name their services", "[serve]") {
  auto host = serve::parse_route("API.Example.com:443=http://127.0.0.1:3001");
  CHECK(host.kind == serve::Route::Kind::host);
  CHECK(host.match == "api.example.com");
  CHECK(host.service_id == "api.example.com");
  CHECK(host.upstream.port == 3001);
  auto prefix = serve::parse_route("/payments/v1/=http://127.0.0.1:4000/base");
  CHECK(prefix.kind == serve::Route::Kind::path_prefix);
  CHECK(prefix.match == "/payments/v1");
  CHECK(prefix.service_id == "payments-v1");
  CHECK(prefix.upstream.base_path == "/base");

  auto tls = serve::parse_route("api.stripe.com=https://api.stripe.com");
  CHECK(tls.upstream.scheme == "https");
  CHECK(tls.upstream.port == 443);
}

TEST_CASE("serve::parse_route: malformed routes are usage errors", "[serve]") {
  CHECK_THROWS_AS(serve::parse_route("no-equals-sign"), UsageError);
  CHECK_THROWS_AS(serve::parse_route("/=http://127.0.0.1:1"), UsageError);
  CHECK_THROWS_AS(serve::parse_route("host=ftp://127.0.0.1:1"), UsageError);
  CHECK_THROWS_AS(serve::parse_route("host=not a url"), UsageError);
}

TEST_CASE("serve::keys_equal: only the same key matches", "[serve]") {
  CHECK(serve::keys_equal("s3cret", "s3cret"));
  CHECK_FALSE(serve::keys_equal("s3cret", "s3cres"));
  CHECK_FALSE(serve::keys_equal("", "s3cret"));
  CHECK_FALSE(serve::keys_equal("s3cret-longer", "s3cret"));
}
