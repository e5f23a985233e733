#include "seed/spool.hpp"

#include "util/error.hpp"

#include "../support/scoped_env.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

using gostly::seed::Spool;

namespace {

// What publish() wrote to `fd`, a temporary file (rewound and read back).
std::string published(Spool& spool) {
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  spool.publish(::fileno(file), "<test>");
  std::rewind(file);
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) out.append(buffer, n);
  std::fclose(file);
  return out;
}

} // namespace

TEST_CASE("seed::Spool: small output stays in memory and is published whole", "[seed][spool]") {
  Spool spool(1024);
  spool.write("{\"a\":1}\n");
  spool.write("{\"b\":2}\n");
  CHECK_FALSE(spool.on_disk());
  CHECK(spool.size() == 16);
  CHECK(published(spool) == "{\"a\":1}\n{\"b\":2}\n");
  CHECK(spool.size() == 0);
}

TEST_CASE("seed::Spool: output beyond the memory limit spills to disk and keeps its order", "[seed][spool]") {
  Spool spool(100);
  std::string expected;
  for (int i = 0; i < 20000; ++i) { // ~300 KB: past the limit and past the 64 KiB write buffer
    std::string line = "{\"n\":" + std::to_string(i) + "}\n";
    spool.write(line);
    expected += line;
  }
  CHECK(spool.on_disk());
  CHECK(spool.size() == expected.size());
  CHECK(published(spool) == expected);
}

TEST_CASE("seed::Spool: spilled output leaves no file behind, during the run or after", "[seed][spool]") {
  char dir_template[] = "/tmp/gostly-spool-test.XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const std::filesystem::path dir = dir_template;
  {
    gostly::test_support::ScopedEnv tmpdir("TMPDIR", dir.c_str());
    Spool spool(10);
    spool.write("{\"never\":\"seen\"}\n");
    CHECK(spool.on_disk());
    // Anonymous (O_TMPFILE, or unlinked at once): a crash now leaves nothing to clean up.
    CHECK(std::filesystem::is_empty(dir));
  } // destroyed without publish(), as when the import throws
  CHECK(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}
