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

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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

/// The one integer a query returns (COUNT(*) and the like).
inline std::int64_t scalar(store::sql::Database& db, const std::string& sql) {
  store::sql::Statement query(db, sql);
  REQUIRE(query.step());
  return query.integer(0);
}

/// Errors caught on worker threads, for the test thread to report (Catch's assertions are not
/// thread-safe): `CHECK(failures.none())`.
class Failures {
public:
  void add(const std::string& message) {
    std::lock_guard lock(mutex_);
    messages_.push_back(message);
  }
  bool none() {
    std::lock_guard lock(mutex_);
    for (const auto& message : messages_) UNSCOPED_INFO(message);
    return messages_.empty();
  }

private:
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

/// Runs `body(i)` for i in [0, n) on n threads released together, so they really race; an
/// exception from `body` is recorded in `failures`.
template <typename Body>
void race(int n, Failures& failures, Body body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      ++ready;
      while (ready < n) std::this_thread::yield();
      try {
        body(i);
      } catch (const std::exception& e) {
        failures.add(e.what());
      }
    });
  for (auto& t : threads) t.join();
}

} // namespace gostly::test_support
