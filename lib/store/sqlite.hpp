#pragma once
// A thin RAII layer over the SQLite C API, shared by every domain that keeps tables in
// library.db (store, drift). Failures throw gostly::Error with SQLite's message and the SQL
// that failed, so a caller never has to check return codes by hand.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace gostly::store::sql {

/// Runs one or more statements that return no rows (DDL, PRAGMA, BEGIN/COMMIT).
void exec(sqlite3* db, const char* sql);

/// A prepared statement. bind() indices are 1-based as in SQLite; step() returns true while a
/// row is available; reset() makes the statement reusable with fresh bindings.
class Statement {
public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::int64_t value);
  Statement& bind_optional(int index, const std::optional<std::string>& text_or_null);
  Statement& bind_null(int index);

  bool step();
  /// Steps a statement that returns no rows.
  void run();
  void reset();

  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::int64_t integer(int column) const;
  bool is_null(int column) const;

private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// `immediate` takes the write lock up front, so a write transaction never fails half-way with
/// SQLITE_BUSY on its first write; `deferred` suits a consistent read snapshot (export).
/// An immediate transaction first queues behind the other writers of the same database file
/// (an exclusive flock on `<file>.lock`, any process), so concurrent writers wait their turn for
/// as long as it takes instead of failing when SQLite's busy timeout runs out. Readers never wait
/// for it. One thread must not hold two immediate transactions on the same file at once.
enum class Lock { immediate, deferred };

/// BEGIN on construction; ROLLBACK on destruction unless committed.
class Transaction {
public:
  explicit Transaction(sqlite3* db, Lock lock = Lock::immediate);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

private:
  void release() noexcept;
  sqlite3* db_;
  bool open_ = true;
  int writer_lock_ = -1;
};

/// Number of rows changed by the last INSERT/UPDATE/DELETE on `db`.
std::int64_t changes(sqlite3* db) noexcept;

} // namespace gostly::store::sql
