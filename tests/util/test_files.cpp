#include "util/files.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

using namespace gostly;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir() {
  auto dir = fs::temp_directory_path() / util::random_id("gostly-test");
  fs::create_directories(dir);
  return dir;
}
} // namespace

TEST_CASE("util::AppendLog: a torn tail left by a crash is cut back to the last whole line", "[util]") {
  auto dir = temp_dir();
  auto path = dir / "t.jsonl";
  std::ofstream(path) << "{\"a\":1}\n{\"b\":";
  util::AppendLog log(path);
  CHECK(log.torn_bytes_dropped() == 5);
  log.append_line("{\"c\":3}");
  CHECK(util::read_small_file(path) == "{\"a\":1}\n{\"c\":3}\n");
  fs::remove_all(dir);
}

TEST_CASE("util::AtomicFile: without commit the target is untouched", "[util]") {
  auto dir = temp_dir();
  auto path = dir / "lib";
  std::ofstream(path) << "old";
  {
    util::AtomicFile file(path);
    file.write("new");
  }
  CHECK(util::read_small_file(path) == "old");
  {
    util::AtomicFile file(path);
    file.write("new");
    file.commit();
  }
  CHECK(util::read_small_file(path) == "new");
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  fs::remove_all(dir);
}

TEST_CASE("util: ids that could escape the data directory are refused", "[util]") {
  CHECK(util::is_safe_id("payments"));
  CHECK(util::is_safe_id("svc-payments_v2.eu"));
  CHECK_FALSE(util::is_safe_id(".."));
  CHECK_FALSE(util::is_safe_id("../etc"));
  CHECK_FALSE(util::is_safe_id("a/b"));
  CHECK_FALSE(util::is_safe_id(""));
  CHECK_THROWS_AS(util::require_safe_id("-rf", "service id"), UsageError);
}

TEST_CASE("util::encoding: base64 and UTF-8 checks", "[util]") {
  CHECK(util::base64_encode("hello") == "aGVsbG8=");
  CHECK(util::base64_decode("aGVsbG8=").value() == "hello");
  CHECK_FALSE(util::base64_decode("a$b").has_value());
  CHECK(util::is_valid_utf8("h\xc3\xa9llo"));
  CHECK_FALSE(util::is_valid_utf8("\xc0\xaf"));   // overlong '/'
  CHECK_FALSE(util::is_valid_utf8("\xed\xa0\x80")); // surrogate
  // The eight-bytes-at-a-time ASCII skip must not step over a bad byte at any offset.
  for (std::size_t offset = 0; offset < 20; ++offset) {
    std::string text(offset, 'a');
    CHECK(util::is_valid_utf8(text + "\xe2\x82\xac" + std::string(9, 'b')));
    CHECK_FALSE(util::is_valid_utf8(text + "\xe2\x82" + std::string(9, 'b')));
    CHECK_FALSE(util::is_valid_utf8(text + "\xff"));
  }
}

TEST_CASE("util::time: ISO 8601 round trip and offsets", "[util]") {
  auto t = util::parse_iso8601("2026-11-22T17:50:01.123Z");
  REQUIRE(t);
  CHECK(util::format_iso8601(*t) == "2026-11-22T17:50:01.123Z");
  // The per-second cache: the same second again, the next second, an earlier one.
  CHECK(util::format_iso8601(*t + std::chrono::milliseconds(800)) == "2026-11-22T17:50:01.923Z");
  CHECK(util::format_iso8601(*t + std::chrono::milliseconds(877)) == "2026-11-22T17:50:02.000Z");
  CHECK(util::format_iso8601(*t - std::chrono::hours(24 * 366)) == "2025-11-21T17:50:01.123Z");
  CHECK(util::format_iso8601(*t + std::chrono::milliseconds(5)) == "2026-11-22T17:50:01.128Z");
  auto shifted = util::parse_iso8601("2026-11-22T18:50:01.123+01:00");
  REQUIRE(shifted);
  CHECK(*shifted == *t);
  CHECK_FALSE(util::parse_iso8601("yesterday"));
}

TEST_CASE("util::AppendLog: a group of whole lines goes in with one call, a partial line is refused", "[util]") {
  auto dir = temp_dir();
  auto path = dir / "t.jsonl";
  {
    util::AppendLog log(path);
    log.append_lines("{\"a\":1}\n{\"b\":2}\n");
    CHECK_THROWS_AS(log.append_lines("{\"c\":"), Error);
    log.append_line("{\"d\":4}");
  }
  CHECK(util::read_small_file(path) == "{\"a\":1}\n{\"b\":2}\n{\"d\":4}\n");
  fs::remove_all(dir);
}
