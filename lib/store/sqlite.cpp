#include "store/sqlite.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

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

// Writers queue on an advisory lock beside the database (flock on `<db>.lock`), taken before
// BEGIN IMMEDIATE. SQLite's busy handler polls and gives up after its timeout, so six transitions
// started together used to fail one after another; flock() waits in the kernel for as long as the
// writers ahead take. A file of its own, never the database: closing any descriptor of the
// database would drop the POSIX locks SQLite holds on it in this process. Readers never take it.
int lock_writers(sqlite3* db) {
  const char* file = sqlite3_db_filename(db, "main");
  if (!file || !*file) return -1; // in-memory or temporary database: one connection, no queue
  std::string lock_path = std::string(file) + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    // A read-only directory: the write itself will fail with SQLite's reason.
    spdlog::debug("cannot open {}: {}; writing without the writer queue", lock_path, std::strerror(errno));
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
  if (errno == EWOULDBLOCK) {
    spdlog::info("library.db: another writer is at work; waiting for it ({})", lock_path);
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX);
    } while (rc != 0 && errno == EINTR);
    if (rc == 0) return fd;
  }
  int error = errno;
  ::close(fd);
  throw Error("cannot lock " + lock_path + ": " + std::strerror(error));
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
  if (lock == Lock::immediate) writer_lock_ = lock_writers(db);
  try {
    exec(db, lock == Lock::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
  } catch (...) {
    release();
    throw;
  }
}

Transaction::~Transaction() {
  if (open_) {
    char* message = nullptr;
    if (sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, &message) != SQLITE_OK) {
      spdlog::warn("library.db: rollback failed: {}", message ? message : "unknown error");
      sqlite3_free(message);
    }
  }
  release();
}

void Transaction::commit() {
  exec(db_, "COMMIT");
  open_ = false;
  release(); // the next writer in the queue may start now
}

void Transaction::release() noexcept {
  if (writer_lock_ >= 0) ::close(writer_lock_); // closing drops the flock
  writer_lock_ = -1;
}

std::int64_t changes(sqlite3* db) noexcept { return sqlite3_changes(db); }

} // namespace gostly::store::sql
