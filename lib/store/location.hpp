#pragma once
// Where the library lives: `--store` / GOSTLY_STORE on every tool that reads or writes it.
//   (unset)                        data/library.db, SQLite, the embedded default
//   sqlite:PATH | sqlite://PATH    another SQLite file
//   postgres://… | postgresql://…  a PostgreSQL team store (a libpq URI)
//   host=… dbname=… …              the same, as libpq key=value pairs
// PGPASSWORD, .pgpass, PGSSLMODE and the rest of libpq's environment apply to PostgreSQL. The
// password is never part of name(): that is what logs, errors and /services show.
#include "store/sql.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace gostly::store {

class StoreLocation {
public:
  /// SQLite at `file`.
  static StoreLocation sqlite(std::filesystem::path file);
  /// Parses a --store value; `default_file` is used when it is empty. UsageError for a value
  /// that is neither (naming the accepted forms, never echoing a password).
  static StoreLocation parse(const std::string& value, const std::filesystem::path& default_file);

  Engine engine() const noexcept { return engine_; }
  bool is_sqlite() const noexcept { return engine_ == Engine::sqlite; }
  /// The SQLite file (empty for PostgreSQL).
  const std::filesystem::path& file() const noexcept { return file_; }
  /// The file, or the connection string without its password.
  const std::string& name() const noexcept { return name_; }
  /// False only for a SQLite file that does not exist yet; a PostgreSQL store always "exists"
  /// (its tables are created on first open).
  bool exists() const;
  /// A new connection (the engine's Database), the schema not yet migrated.
  std::unique_ptr<sql::Database> connect() const;
  /// The libpq connection string, password included: for connect() and the LISTEN connection only.
  const std::string& conninfo() const noexcept { return conninfo_; }

private:
  Engine engine_ = Engine::sqlite;
  std::filesystem::path file_;
  std::string conninfo_;
  std::string name_;
};

/// A libpq connection string with any password removed, for messages: a URI stays a URI
/// (`postgresql://ana@db:5432/gostly?sslmode=require`), key=value pairs stay pairs.
std::string describe_postgres(const std::string& conninfo);

} // namespace gostly::store
