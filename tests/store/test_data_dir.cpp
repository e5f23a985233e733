#include "store/data_dir.hpp"

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>

using namespace gostly;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path = fs::temp_directory_path() / util::random_id("gostly-data-dir-test");
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};
} // namespace

TEST_CASE("store::DataDir::write_mode: a mode that cannot be written throws gostly::Error with the reason", "[store]") {
  TempDir dir;
  SECTION("the data directory cannot be created (a file is in the way)") {
    std::ofstream(dir.path / "data") << "not a directory";
    store::DataDir data(dir.path / "data");
    try {
      data.write_mode(store::Mode::mock);
      FAIL("write_mode succeeded");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("mode.txt"));
      CHECK_THAT(e.what(), Catch::Contains("Not a directory"));
    }
  }
  SECTION("the disk is full (mode.txt links to a private /dev/full node)") {
    if (::mknod((dir.path / "full").c_str(), S_IFCHR | 0600, ::makedev(1, 7)) != 0) {
      WARN("mknod not permitted here; skipped");
      return;
    }
    store::DataDir data(dir.path);
    fs::create_symlink(dir.path / "full", data.mode_file());
    try {
      data.write_mode(store::Mode::mock);
      FAIL("write_mode succeeded");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("No space left on device"));
    }
    CHECK(fs::is_symlink(data.mode_file()));
  }
}

TEST_CASE("store::DataDir::write_mode: replaces mode.txt whole and reads back", "[store]") {
  TempDir dir;
  store::DataDir data(dir.path / "data");
  data.write_mode(store::Mode::mock);
  data.write_mode(store::Mode::passthrough);
  CHECK(data.read_mode() == store::Mode::passthrough);
  CHECK(util::read_small_file(data.mode_file()) == "PASSTHROUGH\n");
  CHECK(std::distance(fs::directory_iterator(data.root()), fs::directory_iterator()) == 1);
}

TEST_CASE("store::DataDir::read_mode: TRANSITIONING and non-modes are refused naming the file and the accepted values", "[store]") {
  TempDir dir;
  store::DataDir data(dir.path);
  for (const char* text : {"TRANSITIONING\n", "transitioning", "MOKC\n", ""}) {
    std::ofstream(data.mode_file()) << text;
    try {
      data.read_mode();
      FAIL("read_mode accepted '" << text << "'");
    } catch (const InputError& e) {
      std::string what = e.what();
      CHECK_THAT(what, Catch::Contains(data.mode_file().string()));
      CHECK_THAT(what, Catch::Contains("LEARN, MOCK or PASSTHROUGH"));
    }
  }
  std::ofstream(data.mode_file()) << " mock\n";
  CHECK(data.read_mode() == store::Mode::mock);
}

TEST_CASE("store::DataDir::create_mode: writes mode.txt only when it is absent", "[store]") {
  TempDir dir;
  store::DataDir data(dir.path / "data");
  CHECK(data.create_mode(store::Mode::learn));
  CHECK(data.read_mode() == store::Mode::learn);
  CHECK(util::read_small_file(data.mode_file()) == "LEARN\n");
  std::ofstream(data.mode_file()) << "MOCK\n"; // a user's edit made meanwhile is never replaced
  CHECK_FALSE(data.create_mode(store::Mode::learn));
  CHECK(data.read_mode() == store::Mode::mock);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(data.root())) ++entries;
  CHECK(entries == 1); // no temporary left beside it
}

TEST_CASE("store::parse_settable_mode: the three modes a user sets, not TRANSITIONING", "[store]") {
  CHECK(store::parse_settable_mode(" Mock\n") == store::Mode::mock);
  CHECK(store::parse_settable_mode("LEARN") == store::Mode::learn);
  CHECK(store::parse_settable_mode("passthrough") == store::Mode::passthrough);
  CHECK_FALSE(store::parse_settable_mode("TRANSITIONING").has_value());
  CHECK_FALSE(store::parse_settable_mode("").has_value());
  CHECK(store::parse_mode("TRANSITIONING") == store::Mode::transitioning);
}
