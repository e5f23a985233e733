#pragma once
// The one SQL layer every domain that keeps tables in the library store goes through (store,
// drift, bundle, serve). Two engines implement `Database`: SQLite (data/library.db, the embedded
// default; store/sqlite.cpp) and PostgreSQL over libpq (a team store; store/postgres.cpp).
//
// Statements are written once, in the SQL both engines accept: `?` or `?N` placeholders (the
// PostgreSQL engine rewrites them to `$N`), `INSERT ... ON CONFLICT ... DO NOTHING/UPDATE`,
// `RETURNING`, `IS NOT DISTINCT FROM`, CASE instead of boolean arithmetic, an alias on every
// subquery. Only DDL differs per engine (Database::engine() picks the migration list).
// Failures throw gostly::Error naming the store (never its password) and the SQL that failed.
#include "util/error.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gostly::store {

enum class Engine { sqlite, postgres };

} // namespace gostly::store

namespace gostly::store::sql {

/// The store cannot be reached: the connection was refused, timed out or was lost. A long-running
/// reader (gostly-serve) keeps what it has in memory and answers 503 for what needs the store.
class UnavailableError : public Error {
public:
  using Error::Error;
};

/// `immediate` is a write transaction: it first queues behind every other writer of the same store
/// (SQLite: an exclusive flock on `<file>.lock` then BEGIN IMMEDIATE; PostgreSQL: a transaction-
/// scoped advisory lock), so concurrent writers wait their turn for as long as it takes instead
/// of failing half-way. `deferred` is a consistent read snapshot (bundle export). Readers never
/// wait for writers. One thread must not hold two immediate transactions on one store at once.
enum class Lock { immediate, deferred };

/// One prepared statement of an engine. bind() indices are 1-based; step() returns true while a
/// row is available; reset() makes it reusable with fresh bindings.
class Cursor {
public:
  virtual ~Cursor() = default;
  virtual void bind_text(int index, std::string_view text) = 0;
  virtual void bind_integer(int index, std::int64_t value) = 0;
  virtual void bind_null(int index) = 0;
  virtual bool step() = 0;
  virtual void reset() = 0;
  /// Rows changed by this statement's last INSERT/UPDATE/DELETE (after step() returned false).
  virtual std::int64_t changes() const = 0;
  virtual std::string text(int column) const = 0;
  virtual std::int64_t integer(int column) const = 0;
  virtual bool is_null(int column) const = 0;
};

/// One connection to a store.
class Database {
public:
  virtual ~Database() = default;
  virtual Engine engine() const noexcept = 0;
  /// How messages name the store: the file, or the URI without its password.
  virtual const std::string& name() const noexcept = 0;
  /// Runs one or more statements that return no rows (DDL, BEGIN/COMMIT).
  virtual void exec(std::string_view sql) = 0;
  virtual std::unique_ptr<Cursor> prepare(std::string_view sql) = 0;
  virtual void begin(Lock lock) = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
  /// The library schema version (SQLite: PRAGMA user_version; PostgreSQL: a one-row table).
  /// set_user_version() runs inside the migration's immediate transaction.
  virtual int user_version() = 0;
  virtual void set_user_version(int version) = 0;
  /// Tells every listener on the store, once the current transaction commits (PostgreSQL
  /// NOTIFY); SQLite has no listeners across processes, so it does nothing there.
  virtual void notify(std::string_view channel, std::string_view payload) = 0;
};

std::unique_ptr<Database> open_sqlite(const std::string& path);
/// `conninfo` is a libpq connection string: a postgres:// or postgresql:// URI or key=value
/// pairs; PGPASSWORD, .pgpass, PGSSLMODE and the other libpq variables apply as usual.
std::unique_ptr<Database> open_postgres(const std::string& conninfo);

/// Runs statements that return no rows.
void exec(Database& db, std::string_view sql);

/// A prepared statement; see Cursor.
class Statement {
public:
  Statement(Database& db, std::string_view sql) : cursor_(db.prepare(sql)) {}
  Statement& bind(int index, std::string_view text) { cursor_->bind_text(index, text); return *this; }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, std::int64_t value) { cursor_->bind_integer(index, value); return *this; }
  Statement& bind_optional(int index, const std::optional<std::string>& text_or_null) {
    return text_or_null ? bind(index, std::string_view(*text_or_null)) : bind_null(index);
  }
  Statement& bind_null(int index) { cursor_->bind_null(index); return *this; }

  bool step() { return cursor_->step(); }
  /// Steps a statement that returns no rows; the number of rows it changed.
  std::int64_t run() {
    while (cursor_->step()) {
    }
    return cursor_->changes();
  }
  void reset() { cursor_->reset(); }

  std::string text(int column) const { return cursor_->text(column); }
  std::optional<std::string> optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
  }
  std::int64_t integer(int column) const { return cursor_->integer(column); }
  bool is_null(int column) const { return cursor_->is_null(column); }

private:
  std::unique_ptr<Cursor> cursor_;
};

/// BEGIN on construction; ROLLBACK on destruction unless committed.
class Transaction {
public:
  explicit Transaction(Database& db, Lock lock = Lock::immediate) : db_(db) { db_.begin(lock); }
  ~Transaction() {
    if (open_) db_.rollback();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.commit();
    open_ = false;
  }

private:
  Database& db_;
  bool open_ = true;
};

} // namespace gostly::store::sql
