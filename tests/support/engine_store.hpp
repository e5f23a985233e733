#pragma once
// A fresh, empty library store for one Catch2 test case, on the engine under test.
//
// By default a SQLite file in a temporary directory. When GOSTLY_TEST_STORE names a PostgreSQL
// database (ctest's `postgres: test_<module>`, tests/postgres/run-catch.sh, runs the "[engines]"
// test cases with it), a schema of its own in that database instead: CREATE SCHEMA t_<random>,
// a StoreLocation whose connection string puts that schema first on search_path, and DROP SCHEMA
// at the end. So each test case starts empty on both engines and tag "[engines]" is all it takes
// to run an engine-agnostic test case on both. Include it as "../support/engine_store.hpp".
#include "store/location.hpp"
#include "store/sql.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace gostly::test_support {

/// The PostgreSQL database the [engines] tests run against (a libpq URI with its password), or
/// nullopt when they run on SQLite.
inline std::optional<std::string> test_postgres() {
  const char* uri = std::getenv("GOSTLY_TEST_STORE");
  if (!uri || !*uri) return std::nullopt;
  return std::string(uri);
}

inline bool is_uri(const std::string& conninfo) {
  return conninfo.rfind("postgres://", 0) == 0 || conninfo.rfind("postgresql://", 0) == 0;
}

/// `conninfo` with `-c search_path=<schema>` in its options: a URI gets a query parameter
/// (`=` percent-encoded, as libpq decodes URI values), key=value pairs get one more pair.
inline std::string with_search_path(const std::string& conninfo, const std::string& schema) {
  if (is_uri(conninfo))
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
  return conninfo + " options='-csearch_path=" + schema + "'";
}

class EngineStore {
public:
  EngineStore() : dir_(std::filesystem::temp_directory_path() / util::random_id("gostly-engines")) {
    std::filesystem::create_directories(dir_);
    if (auto uri = test_postgres()) {
      schema_ = "t_" + util::random_id("");
      admin_ = store::sql::open_postgres(*uri);
      admin_->exec("CREATE SCHEMA " + schema_);
      location_ = store::StoreLocation::parse(with_search_path(*uri, schema_), {});
    } else {
      location_ = store::StoreLocation::sqlite(dir_ / "library.db");
    }
  }
  ~EngineStore() {
    if (admin_) {
      try {
        // A connection a failed test left in a transaction must not hang the run here.
        admin_->exec("SET lock_timeout = '10s'; DROP SCHEMA " + schema_ + " CASCADE");
      } catch (const std::exception& e) {
        WARN("cannot drop test schema " << schema_ << ": " << e.what());
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  EngineStore(const EngineStore&) = delete;
  EngineStore& operator=(const EngineStore&) = delete;

  const store::StoreLocation& location() const noexcept { return location_; }
  bool postgres() const noexcept { return location_.engine() == store::Engine::postgres; }
  /// The --store value of this store (TransitionOptions::store, DataDir's second argument).
  std::string store_value() const {
    return postgres() ? location_.conninfo() : "sqlite:" + location_.file().string();
  }
  /// A temporary directory for the test's other files (inputs, bundles), removed at the end.
  const std::filesystem::path& dir() const noexcept { return dir_; }
  /// The PostgreSQL schema (empty on SQLite).
  const std::string& schema() const noexcept { return schema_; }

private:
  std::filesystem::path dir_;
  std::string schema_;
  std::unique_ptr<store::sql::Database> admin_;
  store::StoreLocation location_;
};

} // namespace gostly::test_support
