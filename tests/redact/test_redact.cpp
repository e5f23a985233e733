#include "redact/redact.hpp"

#include "util/encoding.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>

using namespace gostly;

TEST_CASE("redact::Redactor: every floor header is masked in place whatever its case", "[redact]") {
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
  REQUIRE(in.request.headers.size() == 17);
  for (std::size_t i = 0; i < redact::kCredentialFloor.size(); ++i) {
    INFO(in.request.headers[i].first);
    CHECK(util::iequals(in.request.headers[i].first, redact::kCredentialFloor[i]));
    CHECK(std::isupper(static_cast<unsigned char>(in.request.headers[i].first[0]))); // case kept
    CHECK(in.request.headers[i].second.find("secret") == std::string::npos);
  }
  CHECK(in.request.headers[0].second == "gostly-redacted");   // Authorization
  CHECK(in.request.headers[2].second == "gostly-redacted");   // Cookie: a nameless cookie
  CHECK(in.request.headers[16] == record::Header{"Accept", "*/*"});
  CHECK(in.response.headers == record::Headers{{"Set-Cookie", "sid=gostly-redacted"}, {"Content-Type", "text/plain"}});
  CHECK(in.redacted.size() == 16);

  // Masking twice changes nothing (transition and bundle export re-apply it).
  auto again = in;
  redact::Redactor().apply(again);
  CHECK(again.request.headers == in.request.headers);
  CHECK(again.response.headers == in.response.headers);
  CHECK(again.redacted == in.redacted);
}

TEST_CASE("redact::mask_value: cookies keep names and attributes, only values are masked", "[redact][hostile]") {
  using redact::mask_value;
  CHECK(mask_value("Cookie", "a=1; b=2") == "a=gostly-redacted; b=gostly-redacted");
  CHECK(mask_value("cookie", "a=1;b=2;  c=3 ") == "a=gostly-redacted;b=gostly-redacted;  c=gostly-redacted ");
  CHECK(mask_value("Set-Cookie", "sid=abc; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly") ==
        "sid=gostly-redacted; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly");
  CHECK(mask_value("SET-COOKIE", "sid=\"q u o t e d\"; Secure") == "sid=\"gostly-redacted\"; Secure");
  CHECK(mask_value("Cookie", "tok=\"abc\"") == "tok=\"gostly-redacted\"");
  // Empty values have nothing to hide and stay empty (a logout's `sid=; Max-Age=0` still clears).
  CHECK(mask_value("Set-Cookie", "sid=; Max-Age=0") == "sid=; Max-Age=0");
  CHECK(mask_value("Cookie", "a=; b=\"\"") == "a=; b=\"\"");
  // A value holding '=' (base64 padding) is one value.
  CHECK(mask_value("Cookie", "t=YWJj==; u=x=y") == "t=gostly-redacted; u=gostly-redacted");
  // Malformed: no '=', empty pieces, stray separators, only spaces: masked or kept, never a crash.
  CHECK(mask_value("Cookie", "justavalue") == "gostly-redacted");
  CHECK(mask_value("Cookie", ";;a=1;;") == ";;a=gostly-redacted;;");
  CHECK(mask_value("Cookie", "") == "");
  CHECK(mask_value("Cookie", "   ") == "   ");
  CHECK(mask_value("Cookie", "=") == "=");
  CHECK(mask_value("Cookie", "=secret") == "=gostly-redacted");
  CHECK(mask_value("Cookie", "\"") == "gostly-redacted");
  CHECK(mask_value("Set-Cookie", "noequals; Path=/") == "gostly-redacted; Path=/");
  CHECK(mask_value("Set-Cookie", "; Path=/") == "; Path=/");
  // Other headers: the whole value, whatever it holds.
  CHECK(mask_value("Authorization", "Bearer abc; x=1") == "gostly-redacted");
  CHECK(mask_value("X-Api-Key", "") == "");
  // Idempotent.
  for (std::string_view v : {"a=1; b=\"2\"", "sid=x; Path=/", "bare", "gostly-redacted"})
    CHECK(mask_value("Cookie", mask_value("Cookie", v)) == mask_value("Cookie", v));
}

TEST_CASE("redact::Redactor: REDACT_HEADERS adds to the floor and never shrinks it", "[redact]") {
  redact::Redactor r;
  r.add(" X-Tenant-Secret , ,authorization");
  CHECK(r.is_redacted("x-tenant-secret"));
  CHECK(r.is_redacted("AUTHORIZATION"));
  CHECK(r.names().size() == 17);
  CHECK_FALSE(r.is_redacted("accept"));
}

TEST_CASE("redact::Redactor: URL userinfo is masked in an absolute uri and Host, dropped from host", "[redact][hostile]") {
  record::Interaction in;
  in.request.host = "user:SECRET@api.example.com:8080";
  in.request.uri = "http://user:SECRET@api.example.com:8080/path?q=a@b";
  in.request.headers = {{"Host", "user:SECRET@api.example.com:8080"}, {"Accept", "*/*"}};
  redact::Redactor().apply(in);
  // request.host is the routing authority (host[:port], as lib/http records it): replay by
  // host needs it without userinfo.
  CHECK(in.request.host == "api.example.com:8080");
  CHECK(in.request.uri == "http://user:gostly-redacted@api.example.com:8080/path?q=a@b");
  CHECK(in.request.headers == record::Headers{{"Host", "user:gostly-redacted@api.example.com:8080"}, {"Accept", "*/*"}});
  CHECK(in.redacted == std::vector<std::string>{"userinfo"});
  auto again = in;
  redact::Redactor().apply(again);
  CHECK(again.request.uri == in.request.uri);
  CHECK(again.request.headers == in.request.headers);
  CHECK(again.redacted == in.redacted);

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
  CHECK(user_only.request.uri == "https://gostly-redacted@h.test?x=1");
  CHECK(user_only.request.host == "h.test");
  CHECK(user_only.redacted == std::vector<std::string>{"userinfo"});

  record::Interaction at_in_path;
  at_in_path.request.uri = "http://h.test/p@q";
  redact::Redactor().apply(at_in_path);
  CHECK(at_in_path.request.uri == "http://h.test/p@q");
}

TEST_CASE("redact::strip_userinfo and mask_userinfo: the authority part only, in place", "[redact][hostile]") {
  std::string host = "a:b@c:d@host";
  CHECK(redact::strip_userinfo_from_authority(host));
  CHECK(host == "host");
  std::string url = "HTTPS://u:p@h/x";
  CHECK(redact::strip_userinfo_from_url(url));
  CHECK(url == "HTTPS://h/x");
  std::string origin = "/a@b";
  CHECK_FALSE(redact::strip_userinfo_from_url(origin));
  CHECK_FALSE(redact::mask_userinfo_in_url(origin));
  std::string none = "h.test:80";
  CHECK_FALSE(redact::strip_userinfo_from_authority(none));
  CHECK_FALSE(redact::mask_userinfo_in_authority(none));

  std::string masked = "a:b@c:d@host";
  CHECK(redact::mask_userinfo_in_authority(masked));
  CHECK(masked == "a:gostly-redacted@host");
  std::string bare = "token@h";
  CHECK(redact::mask_userinfo_in_authority(bare));
  CHECK(bare == "gostly-redacted@h");
  std::string empty_password = "user:@h";
  CHECK(redact::mask_userinfo_in_authority(empty_password));
  CHECK(empty_password == "user:@h");
  std::string murl = "ftp+x://u:p@h?q@r";
  CHECK(redact::mask_userinfo_in_url(murl));
  CHECK(murl == "ftp+x://u:gostly-redacted@h?q@r");
  std::string bad_scheme = "1http://u:p@h/";
  CHECK_FALSE(redact::mask_userinfo_in_url(bad_scheme));
}

TEST_CASE("redact::mask_value: random cookie-ish text never crashes and masks once for all", "[redact][hostile]") {
  const std::string alphabet = "ab=;\" \t,\xe9";
  std::uint64_t state = 7; // a fixed LCG: the same strings on every run
  auto next = [&] { return (state = state * 6364136223846793005ull + 1442695040888963407ull) >> 33; };
  for (int round = 0; round < 5000; ++round) {
    std::string value;
    for (auto n = next() % 24; n > 0; --n) value += alphabet[next() % alphabet.size()];
    INFO("round " << round << ": '" << value << "'");
    for (std::string_view name : {"Cookie", "Set-Cookie"}) {
      std::string once = redact::mask_value(name, value);
      CHECK(redact::mask_value(name, once) == once);
      // Separators survive: the same number of pieces.
      CHECK(std::count(once.begin(), once.end(), ';') == std::count(value.begin(), value.end(), ';'));
    }
  }
}
