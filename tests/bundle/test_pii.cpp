#include "bundle/pii.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace gostly;

namespace {
std::string scrub(std::string_view text) {
  bundle::ScrubCounts counts;
  return bundle::scrub_text(text, counts);
}
} // namespace

TEST_CASE("bundle::scrub_text: each kind of PII becomes its placeholder", "[bundle]") {
  bundle::ScrubCounts counts;
  auto out = bundle::scrub_text("mail bob.smith+x@mail.example.com, card 4242-4242-4242-4242, ip 10.0.0.12, "
                                "tel +44 20 7946 0958 or (415) 555-2671, auth Bearer eyJhbGciOi.abc",
                                counts);
  CHECK(out == "mail user@example.invalid, card 4111111111111111, ip 192.0.2.0, tel +1-202-555-0100 or "
               "+1-202-555-0100, auth Bearer REDACTED");
  CHECK(counts.emails == 1);
  CHECK(counts.cards == 1);
  CHECK(counts.ipv4 == 1);
  CHECK(counts.phones == 2);
  CHECK(counts.bearer_tokens == 1);
}

TEST_CASE("bundle::scrub_text: look-alikes are left alone", "[bundle]") {
  // A millisecond timestamp, a Luhn-invalid 16-digit id, a version string, a date, an ISO time.
  std::string text = R"({"ts":1732297801123,"id":4242424242424241,"v":"1.2.3.4.5","d":"2026-11-22 10:00:01","n":"a@b"})";
  CHECK(scrub(text) == text);
}

TEST_CASE("bundle::scrub_text: JSON stays valid around escapes and bare numbers", "[bundle]") {
  std::string text = R"({"a":"line\nbob@x.io","b":"caf\u00e9@x.io","card":4111111111111111,"c":"x\"ann@y.org"})";
  auto out = scrub(text);
  auto parsed = nlohmann::json::parse(out, nullptr, false);
  REQUIRE_FALSE(parsed.is_discarded());
  CHECK(parsed["a"] == "line\nuser@example.invalid");
  CHECK(parsed["card"] == 4111111111111111);
  CHECK(out.find("bob@") == std::string::npos);
  CHECK(out.find("ann@") == std::string::npos);
}

TEST_CASE("bundle::luhn_valid: known test numbers", "[bundle]") {
  CHECK(bundle::luhn_valid("4111111111111111"));
  CHECK(bundle::luhn_valid("378282246310005"));
  CHECK_FALSE(bundle::luhn_valid("4111111111111112"));
  CHECK_FALSE(bundle::luhn_valid(""));
}
