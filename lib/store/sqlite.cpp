// The SQLite engine of store/sql.hpp: data/library.db in WAL mode.
#include "store/sql.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/limits.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

namespace gostly::store::sql {

namespace {

// How long a lock held outside gostly's writer queue (a sqlite3 shell, WAL recovery) is waited
// for; GOSTLY_BUSY_TIMEOUT_MS changes it.
constexpr std::size_t kBusyTimeoutMs = 10'000;

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

class SqliteCursor final : public Cursor {
public:
  SqliteCursor(sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK) fail(db, sql);
  }
  ~SqliteCursor() override { sqlite3_finalize(stmt_); }

  void bind_text(int index, std::string_view text) override {
    if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) != SQLITE_OK)
      fail(db_, sqlite3_sql(stmt_));
  }
  void bind_integer(int index, std::int64_t value) override {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail(db_, sqlite3_sql(stmt_));
  }
  void bind_null(int index) override {
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(db_, sqlite3_sql(stmt_));
  }
  bool step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) {
      changes_ = sqlite3_changes(db_);
      return false;
    }
    fail(db_, sqlite3_sql(stmt_));
  }
  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    changes_ = 0;
  }
  std::int64_t changes() const override { return changes_; }
  std::string text(int column) const override {
    const auto* bytes = sqlite3_column_text(stmt_, column);
    if (!bytes) return {};
    return std::string(reinterpret_cast<const char*>(bytes),
                       static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::int64_t integer(int column) const override { return sqlite3_column_int64(stmt_, column); }
  bool is_null(int column) const override { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::int64_t changes_ = 0;
};

class SqliteDatabase final : public Database {
public:
  explicit SqliteDatabase(const std::string& path) : name_(path) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string what = path + ": cannot open: " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
      sqlite3_close(db_);
      throw Error(what);
    }
    try {
      sqlite3_busy_timeout(db_, static_cast<int>(std::min<std::size_t>(
                                    util::limit_from_env("GOSTLY_BUSY_TIMEOUT_MS", kBusyTimeoutMs), INT_MAX)));
      SqliteCursor wal(db_, "PRAGMA journal_mode=WAL");
      if (!wal.step() || util::to_lower(wal.text(0)) != "wal") throw Error(path + ": cannot switch to WAL mode");
      exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
    } catch (...) {
      sqlite3_close(db_);
      throw;
    }
  }
  ~SqliteDatabase() override {
    release_writer_lock();
    sqlite3_close(db_);
  }

  Engine engine() const noexcept override { return Engine::sqlite; }
  const std::string& name() const noexcept override { return name_; }

  void exec(std::string_view sql) override {
    std::string text(sql);
    char* message = nullptr;
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string what = std::string("library.db: ") + (message ? message : "unknown error") + " (in: " +
                         std::string(sql.substr(0, 80)) + ")";
      sqlite3_free(message);
      throw Error(what);
    }
  }
  std::unique_ptr<Cursor> prepare(std::string_view sql) override { return std::make_unique<SqliteCursor>(db_, sql); }

  void begin(Lock lock) override {
    if (lock == Lock::immediate) writer_lock_ = lock_writers(db_);
    try {
      exec(lock == Lock::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    } catch (...) {
      release_writer_lock();
      throw;
    }
  }
  void commit() override {
    exec("COMMIT");
    release_writer_lock(); // the next writer in the queue may start now
  }
  void rollback() noexcept override {
    char* message = nullptr;
    if (sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, &message) != SQLITE_OK) {
      spdlog::warn("library.db: rollback failed: {}", message ? message : "unknown error");
      sqlite3_free(message);
    }
    release_writer_lock();
  }

  int user_version() override {
    SqliteCursor query(db_, "PRAGMA user_version");
    query.step();
    return static_cast<int>(query.integer(0));
  }
  void set_user_version(int version) override { exec("PRAGMA user_version=" + std::to_string(version)); }
  void notify(std::string_view, std::string_view) override {}

private:
  void release_writer_lock() noexcept {
    if (writer_lock_ >= 0) ::close(writer_lock_); // closing drops the flock
    writer_lock_ = -1;
  }

  std::string name_;
  sqlite3* db_ = nullptr;
  int writer_lock_ = -1;
};

} // namespace

std::unique_ptr<Database> open_sqlite(const std::string& path) { return std::make_unique<SqliteDatabase>(path); }

void exec(Database& db, std::string_view sql) { db.exec(sql); }

} // namespace gostly::store::sql
