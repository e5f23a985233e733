// Bundle import (gostly-transition --import, bundle::import_bundle): libarchive reads the input
// as .tar.gz or plain .tar (support_filter_all), then the manifest, the entry names and every
// record are checked and added to a library.db inside one transaction. The input goes through a
// file because import_bundle takes a path; the database is made once per process (in $TMPDIR)
// and a failed import rolls back, so iterations do not see each other's work except successes.
#include "fuzz.hpp"

#include "bundle/bundle.hpp"
#include "redact/redact.hpp"
#include "store/library_db.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

struct Workspace {
  fs::path dir;
  std::unique_ptr<gostly::store::LibraryDb> db;
  Workspace() {
    std::string pattern = (fs::temp_directory_path() / "gostly-fuzz-bundle-XXXXXX").string();
    if (!mkdtemp(pattern.data())) std::abort();
    dir = pattern;
    db = std::make_unique<gostly::store::LibraryDb>(dir / "library.db");
  }
  ~Workspace() {
    db.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Workspace workspace;
  fs::path input = workspace.dir / "input.tar.gz";
  {
    std::FILE* f = std::fopen(input.c_str(), "wb");
    if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) std::abort();
  }
  static const gostly::redact::Redactor redactor; // the floor, as gostly-transition --import uses
  return gostly::fuzz::run([&] { gostly::bundle::import_bundle(*workspace.db, input, redactor); });
}
