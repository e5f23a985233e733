#include "util/string_format.hpp"

#include <catch2/catch.hpp>

using namespace gostly::util;

TEST_CASE("util::string_format: uuids and timestamps are named formats, words are text", "[util]") {
  CHECK(looks_uuid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
  CHECK_FALSE(looks_uuid("3f2504e0-4f89-11d3-9a0c"));
  CHECK(classify_string("3F2504E0-4F89-11D3-9A0C-0305E82C3301") == StringFormat::uuid);
  CHECK(classify_string("2026-11-30T03:10:00Z") == StringFormat::iso_datetime);
  CHECK(classify_string("users") == StringFormat::text);
}

TEST_CASE("util::string_format: epoch seconds and milliseconds count only near the given time", "[util]") {
  constexpr std::int64_t now = 1'796'000'000; // Nov 2026
  constexpr std::int64_t day = 86'400;
  CHECK(epoch_near(now - 5, now, day) == EpochUnit::seconds);
  CHECK(epoch_near((now + 60) * 1000 + 123, now, day) == EpochUnit::millis);
  CHECK(epoch_near(now - 400 * day, now, day) == EpochUnit::none); // a recorded date of birth, say
  CHECK(epoch_near(42, now, day) == EpochUnit::none);
  CHECK(epoch_near(1000, now, day) == EpochUnit::none);
  CHECK(epoch_near(12'345'678'901'234'567, now, day) == EpochUnit::none);
}

TEST_CASE("util::string_format: nonces mix letters and digits; words, numbers and slugs do not", "[util]") {
  for (const char* nonce : {"9f86d081884c7d659a2feaa0c55ad015", "1732881234abcdef", "dGhpcyBpcyBhIHRlc3Q0NTY3ODk=",
                            "Zm9vYmFyYmF6cXV4MTIzNDU2", "aB3_dE5-gH7iJ9kL1mN3oP"}) {
    INFO(nonce);
    CHECK(looks_nonce(nonce));
  }
  for (const char* word : {"", "deadbeefdeadbeef", "12345678901234567890", "hello-world-this-is-a-slug",
                           "ThisIsAVeryLongCamelCaseWord", "abc123", "page-2", "a1b2c3d4e5f6g7h8 space"}) {
    INFO(word);
    CHECK_FALSE(looks_nonce(word));
  }
}
