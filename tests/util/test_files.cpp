#include "util/files.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

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

namespace {
std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}
} // namespace

TEST_CASE("util::AtomicFile: an uncommitted file has no name in the directory, so a kill leaves nothing", "[util]") {
  auto dir = temp_dir();
  {
    util::AtomicFile file(dir / "out.jsonl");
    file.write(std::string(100000, 'x'));
    CHECK(entries(dir) == 0); // a kill -9 now leaves the directory as it was
    file.commit();
  }
  CHECK(entries(dir) == 1);
  CHECK(fs::file_size(dir / "out.jsonl") == 100000);
  // Over an existing file, twice in a row: the old content until commit, then the new.
  std::ofstream(dir / "old") << "old";
  for (int round = 0; round < 2; ++round) {
    util::AtomicFile file(dir / "old");
    file.write("new" + std::to_string(round));
    CHECK(util::read_small_file(dir / "old") == (round == 0 ? "old" : "new0"));
    file.commit();
  }
  CHECK(util::read_small_file(dir / "old") == "new1");
  CHECK(entries(dir) == 2);
  fs::remove_all(dir);
}

TEST_CASE("util::AtomicFile: a FIFO is written in place, not replaced by a regular file", "[util]") {
  auto dir = temp_dir();
  auto fifo = dir / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // The read end first (O_NONBLOCK lets it open without a writer); if the FIFO were replaced
  // instead of written, this end would see end of file at once rather than hang.
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  REQUIRE(reader >= 0);
  REQUIRE(::fcntl(reader, F_SETFL, 0) == 0);
  {
    util::AtomicFile file(fifo);
    file.write("{\"a\":1}\n");
    file.commit();
  }
  std::string received;
  char block[256];
  for (ssize_t n; (n = ::read(reader, block, sizeof block)) > 0;) received.append(block, static_cast<std::size_t>(n));
  ::close(reader);
  CHECK(received == "{\"a\":1}\n");
  CHECK(fs::is_fifo(fs::symlink_status(fifo)));
  fs::remove_all(dir);
}

TEST_CASE("util::AtomicFile: a symlink is kept and its target replaced atomically", "[util]") {
  auto dir = temp_dir();
  fs::create_directories(dir / "real");
  std::ofstream(dir / "real" / "lib.jsonl") << "old";
  fs::create_symlink("real/lib.jsonl", dir / "link");
  {
    util::AtomicFile file(dir / "link");
    file.write("new");
    file.commit();
  }
  CHECK(fs::is_symlink(dir / "link"));
  CHECK(util::read_small_file(dir / "real" / "lib.jsonl") == "new");
  CHECK(entries(dir / "real") == 1);
  // A chain of links, the last one dangling: the final target is created, every link kept.
  fs::create_symlink("link3", dir / "link2");
  fs::create_symlink(dir / "real" / "created", dir / "link3");
  {
    util::AtomicFile file(dir / "link2");
    file.write("made");
    file.commit();
  }
  CHECK(fs::is_symlink(dir / "link2"));
  CHECK(fs::is_symlink(dir / "link3"));
  CHECK(util::read_small_file(dir / "real" / "created") == "made");
  // A loop of links is an error, not a hang.
  fs::create_symlink("loop-b", dir / "loop-a");
  fs::create_symlink("loop-a", dir / "loop-b");
  CHECK_THROWS_AS(util::AtomicFile(dir / "loop-a"), Error);
  fs::remove_all(dir);
}

TEST_CASE("util::AtomicFile: a character device is written in place and its error reported", "[util]") {
  // A private node for /dev/full (c 1 7) in a temporary directory; never the real /dev/null.
  auto dir = temp_dir();
  auto full = dir / "full";
  if (::mknod(full.c_str(), S_IFCHR | 0600, ::makedev(1, 7)) != 0) {
    fs::remove_all(dir);
    WARN("mknod not permitted here; skipped");
    return;
  }
  try {
    util::AtomicFile file(full);
    file.write("{\"a\":1}\n");
    file.commit();
    FAIL("writing to a full device succeeded");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("No space left on device"));
  }
  CHECK(fs::is_character_file(fs::symlink_status(full)));
  CHECK(entries(dir) == 1);
  fs::remove_all(dir);
}

namespace {
// RLIMIT_FSIZE as a full disk: write() past the limit is short, then fails with EFBIG (SIGXFSZ
// ignored). Restores the limit and the signal on scope exit.
struct FileSizeLimit {
  rlimit saved{};
  void (*saved_handler)(int);
  explicit FileSizeLimit(rlim_t bytes) {
    saved_handler = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &saved);
    set(bytes);
  }
  void set(rlim_t bytes) {
    rlimit limit = saved;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, saved_handler);
  }
};
} // namespace

TEST_CASE("util::AppendLog: a write cut short by a full disk leaves whole lines, and appending resumes", "[util]") {
  auto dir = temp_dir();
  auto path = dir / "t.jsonl";
  std::string line(29, 'a'); // 30 bytes with its newline
  {
    util::AppendLog log(path);
    FileSizeLimit limit(100);
    for (int i = 0; i < 3; ++i) log.append_line(line);
    CHECK_THROWS_AS(log.append_line(line), Error); // 10 of 30 bytes fit
    CHECK(fs::file_size(path) == 90);
    CHECK_THROWS_AS(log.append_lines(line + "\n" + line + "\n"), Error);
    CHECK(fs::file_size(path) == 90);
    limit.set(RLIM_INFINITY);
    log.append_line("{\"b\":2}");
  }
  CHECK(util::read_small_file(path) == line + "\n" + line + "\n" + line + "\n{\"b\":2}\n");
  fs::remove_all(dir);
}

TEST_CASE("util::write_lines: a regular file opened without O_APPEND is cut back to its last whole line", "[util]") {
  auto dir = temp_dir();
  auto path = dir / "out.jsonl";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  std::string line(29, 'a');
  {
    FileSizeLimit limit(100);
    for (int i = 0; i < 3; ++i) util::write_lines(fd, line + "\n", "out.jsonl");
    try {
      util::write_lines(fd, line + "\n", "out.jsonl");
      FAIL("a write past the limit succeeded");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("out.jsonl"));
    }
    CHECK(fs::file_size(path) == 90);
    limit.set(RLIM_INFINITY);
    util::write_lines(fd, "{\"b\":2}\n", "out.jsonl");
  }
  ::close(fd);
  CHECK(util::read_small_file(path) == line + "\n" + line + "\n" + line + "\n{\"b\":2}\n");
  fs::remove_all(dir);
}

TEST_CASE("util::parse_iso8601 refuses times the clock cannot hold (no overflow)", "[util][time]") {
  CHECK_FALSE(util::parse_iso8601("4048-05-01T00:00:00Z"));
  CHECK_FALSE(util::parse_iso8601("9999-12-31"));
  CHECK_FALSE(util::parse_iso8601("1000-01-01T00:00:00Z"));
  CHECK(util::parse_iso8601("2261-12-31T23:59:59Z"));
  CHECK(util::parse_iso8601("1970-01-01T00:00:00Z"));
}

TEST_CASE("util::host_service_id: the id gostly-seed gives a host, without allocating", "[util]") {
  std::array<char, 128> buffer;
  CHECK(util::host_service_id("API.Example.com", buffer) == "api.example.com");
  CHECK(util::host_service_id("localhost:5000", buffer) == "localhost-5000");
  CHECK(util::host_service_id("[::1]:8080", buffer) == "1--8080");
  CHECK(util::host_service_id("..-host.-", buffer) == "host");
  CHECK(util::host_service_id(":::", buffer).empty());
  CHECK(util::host_service_id("", buffer).empty());
  // The reference: map, trim both ends, then cut to 128 (gostly-seed's original order).
  auto reference = [](std::string_view host) {
    std::string id;
    for (char c : util::to_lower(host)) {
      bool safe = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
      id += safe ? c : '-';
    }
    while (!id.empty() && (id.back() == '.' || id.back() == '-')) id.pop_back();
    while (!id.empty() && (id.front() == '.' || id.front() == '-')) id.erase(id.begin());
    if (id.size() > 128) id.resize(128);
    return id;
  };
  for (std::string host : {std::string(200, 'a'), std::string(127, 'a') + "-b", std::string(127, 'a') + "--",
                           std::string(128, 'a') + ":", std::string(130, 'a') + "::b", "-" + std::string(128, 'x') + ".",
                           std::string(126, 'a') + ".:.b"})
    CHECK(util::host_service_id(host, buffer) == reference(host));
}
