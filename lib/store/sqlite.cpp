#include "store/sqlite.hpp"

#include "util/error.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace gostly::store::sql {

namespace {

[[noreturn]] void fail(sqlite3* db, std::string_view sql) {
  std::string what = "library.db: ";
  what += sqlite3_errmsg(db);
  what += " (in: ";
  what += sql.substr(0, 80);
  what += ")";
  throw Error(what);
}

} // namespace

void exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string what = std::string("library.db: ") + (message ? message : "unknown error") + " (in: " +
                       std::string(std::string_view(sql).substr(0, 80)) + ")";
    sqlite3_free(message);
    throw Error(what);
  }
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK) fail(db, sql);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    fail(db_, sqlite3_sql(stmt_));
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail(db_, sqlite3_sql(stmt_));
  return *this;
}

Statement& Statement::bind_optional(int index, const std::optional<std::string>& text_or_null) {
  return text_or_null ? bind(index, std::string_view(*text_or_null)) : bind_null(index);
}

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(db_, sqlite3_sql(stmt_));
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, sqlite3_sql(stmt_));
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int column) const {
  const auto* bytes = sqlite3_column_text(stmt_, column);
  if (!bytes) return {};
  return std::string(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

Transaction::Transaction(sqlite3* db, Lock lock) : db_(db) {
  exec(db, lock == Lock::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

Transaction::~Transaction() {
  if (!open_) return;
  char* message = nullptr;
  if (sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, &message) != SQLITE_OK) {
    spdlog::warn("library.db: rollback failed: {}", message ? message : "unknown error");
    sqlite3_free(message);
  }
}

void Transaction::commit() {
  exec(db_, "COMMIT");
  open_ = false;
}

std::int64_t changes(sqlite3* db) noexcept { return sqlite3_changes(db); }

} // namespace gostly::store::sql
