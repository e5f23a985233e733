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

TEST_CASE("redact::Redactor: URL userinfo is dropped from host and an absolute uri", "[redact][hostile]") {
  record::Interaction in;
  in.request.host = "user:SECRET@api.example.com:8080";
  in.request.uri = "http://user:SECRET@api.example.com:8080/path?q=a@b";
  in.request.headers = {{"Host", "user:SECRET@api.example.com:8080"}, {"Accept", "*/*"}};
  redact::Redactor().apply(in);
  CHECK(in.request.host == "api.example.com:8080");
  CHECK(in.request.uri == "http://api.example.com:8080/path?q=a@b");
  CHECK(in.request.headers == record::Headers{{"Host", "api.example.com:8080"}, {"Accept", "*/*"}});
  CHECK(in.redacted == std::vector<std::string>{"userinfo"});

  // Only the authority is userinfo's place: an '@' in a path or query stays, and so does a
  // record without credentials (no "userinfo" in redacted).
  record::Interaction plain;
  plain.request.host = "api.example.com";
  plain.request.uri = "/users/a@b?to=x@y";
  redact::Redactor().apply(plain);
  CHECK(plain.request.uri == "/users/a@b?to=x@y");
  CHECK(plain.request.host == "api.example.com");
  CHECK(plain.redacted.empty());

  record::Interaction user_only;
  user_only.request.uri = "https://token@h.test?x=1";
  user_only.request.host = "@h.test";
  redact::Redactor().apply(user_only);
  CHECK(user_only.request.uri == "https://h.test?x=1");
  CHECK(user_only.request.host == "h.test");
  CHECK(user_only.redacted == std::vector<std::string>{"userinfo"});

  record::Interaction at_in_path;
  at_in_path.request.uri = "http://h.test/p@q";
  redact::Redactor().apply(at_in_path);
  CHECK(at_in_path.request.uri == "http://h.test/p@q");
}

TEST_CASE("redact::strip_userinfo: the authority part only, in place", "[redact][hostile]") {
  std::string host = "a:b@c:d@host";
  CHECK(redact::strip_userinfo_from_authority(host));
  CHECK(host == "host");
  std::string url = "HTTPS://u:p@h/x";
  CHECK(redact::strip_userinfo_from_url(url));
  CHECK(url == "HTTPS://h/x");
  std::string origin = "/a@b";
  CHECK_FALSE(redact::strip_userinfo_from_url(origin));
  std::string none = "h.test:80";
  CHECK_FALSE(redact::strip_userinfo_from_authority(none));
}
