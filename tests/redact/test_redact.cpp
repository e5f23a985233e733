#include "redact/redact.hpp"

#include <catch2/catch.hpp>

using namespace gostly;

TEST_CASE("redact::Redactor: every floor header is stripped whatever its case", "[redact]") {
  record::Interaction in;
  for (auto name : redact::kCredentialFloor) {
    std::string mixed(name);
    mixed[0] = static_cast<char>(std::toupper(mixed[0]));
    in.request.headers.emplace_back(mixed, "secret");
  }
  in.request.headers.emplace_back("Accept", "*/*");
  in.response.headers.emplace_back("Set-Cookie", "sid=1");
  in.response.headers.emplace_back("Content-Type", "text/plain");
  redact::Redactor().apply(in);
  REQUIRE(in.request.headers.size() == 1);
  CHECK(in.request.headers[0].first == "Accept");
  REQUIRE(in.response.headers.size() == 1);
  CHECK(in.redacted.size() == 16);
}

TEST_CASE("redact::Redactor: REDACT_HEADERS adds to the floor and never shrinks it", "[redact]") {
  redact::Redactor r;
  r.add(" X-Tenant-Secret , ,authorization");
  CHECK(r.is_redacted("x-tenant-secret"));
  CHECK(r.is_redacted("AUTHORIZATION"));
  CHECK(r.names().size() == 17);
  CHECK_FALSE(r.is_redacted("accept"));
}
