// The PostgreSQL engine of store/sql.hpp, over libpq.
//
// Statements are prepared once per connection (named after their SQL, so the import's INSERT is
// parsed once) and run with text parameters the server types from context. Rows stream in
// single-row mode, so for_each_recording over a million rows holds one row at a time. libpq runs
// one query per connection at a time: a statement that needs the connection while another is
// still streaming first moves the rest of the other's rows into memory (the nested query of a
// visitor works; only that case buffers).
//
// Writers queue like SQLite's: an immediate transaction takes a transaction-scoped advisory lock
// first, so two transitions (or drift checks from several hosts) into one store run one after
// the other, each one transaction, instead of interleaving their mock-index rebuilds.
#include "store/location.hpp"
#include "store/postgres_sql.hpp"
#include "store/sql.hpp"

#include "util/error.hpp"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <unordered_map>
#include <vector>

namespace gostly::store::sql {

namespace {

// pg_advisory_xact_lock key of the writer queue: "gostly" in ASCII.
constexpr const char* kWriterLockKey = "113723318610809";

class PostgresCursor;

class PostgresDatabase final : public Database {
public:
  explicit PostgresDatabase(const std::string& conninfo) : name_(describe_postgres(conninfo)) {
    ConnectParams params(conninfo, program_name());
    conn_ = PQconnectdbParams(params.keys(), params.values(), 1);
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      std::string reason = conn_ ? libpq_message(PQerrorMessage(conn_)) : "out of memory";
      PQfinish(conn_);
      throw UnavailableError("store " + name_ + ": cannot connect: " + reason);
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char* message) { spdlog::debug("postgres: {}", libpq_message(message)); }, nullptr);
    // Text columns compare byte-wise like SQLite's, whatever the database's collation; the
    // schema declares COLLATE "C" as well. UTC, so nothing depends on the server's zone.
    exec("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'");
  }
  ~PostgresDatabase() override { PQfinish(conn_); }

  Engine engine() const noexcept override { return Engine::postgres; }
  const std::string& name() const noexcept override { return name_; }

  void exec(std::string_view sql) override {
    claim(nullptr);
    std::string text(sql);
    PGresult* result = PQexec(conn_, text.c_str());
    auto status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      std::string reason = result ? libpq_message(PQresultErrorMessage(result)) : libpq_message(PQerrorMessage(conn_));
      PQclear(result);
      fail(reason, sql);
    }
    PQclear(result);
  }

  std::unique_ptr<Cursor> prepare(std::string_view sql) override;

  void begin(Lock lock) override {
    if (lock == Lock::immediate) {
      exec(std::string("BEGIN; SELECT pg_advisory_xact_lock(") + kWriterLockKey + ")");
    } else {
      exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
    }
  }
  void commit() override { exec("COMMIT"); }
  void rollback() noexcept override {
    try {
      exec("ROLLBACK");
    } catch (const std::exception& e) {
      spdlog::warn("{}: rollback failed: {}", name_, e.what());
    }
  }

  int user_version() override;
  void set_user_version(int version) override;
  void notify(std::string_view channel, std::string_view payload) override;

  // The connection is one query at a time: `next` (a cursor about to execute, or nullptr for
  // exec) gets it once the cursor streaming now has buffered its remaining rows.
  void claim(PostgresCursor* next);
  void release(PostgresCursor* cursor) {
    if (active_ == cursor) active_ = nullptr;
  }
  const std::string& statement_name(const std::string& sql, int parameters);
  PGconn* conn() noexcept { return conn_; }
  [[noreturn]] void fail(const std::string& reason, std::string_view sql) const {
    std::string what = "store " + name_ + ": " + reason;
    bool lost = PQstatus(conn_) != CONNECTION_OK;
    if (lost) what += " (connection lost)";
    what += " (in: " + std::string(sql.substr(0, 80)) + ")";
    if (lost) throw UnavailableError(what);
    throw Error(what);
  }

private:
  std::string name_;
  PGconn* conn_ = nullptr;
  PostgresCursor* active_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_; // SQL -> statement name
};

class PostgresCursor final : public Cursor {
public:
  /// `positions`: see to_dollar_placeholders().
  PostgresCursor(PostgresDatabase& db, std::string sql, std::vector<int> positions)
      : db_(db), sql_(std::move(sql)), positions_(std::move(positions)),
        values_(static_cast<std::size_t>(std::count_if(positions_.begin(), positions_.end(), [](int p) { return p >= 0; }))),
        name_(db.statement_name(sql_, static_cast<int>(values_.size()))) {}
  ~PostgresCursor() override { finish(); }

  void bind_text(int index, std::string_view text) override { slot(index) = std::string(text); }
  void bind_integer(int index, std::int64_t value) override { slot(index) = std::to_string(value); }
  void bind_null(int index) override { slot(index).reset(); }

  bool step() override {
    if (state_ == State::idle) start();
    clear_row();
    for (;;) {
      PGresult* result = next_result();
      if (!result) {
        state_ = State::done;
        return false;
      }
      switch (PQresultStatus(result)) {
      case PGRES_SINGLE_TUPLE:
        row_ = result;
        return true;
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK: {
        const char* tuples = PQcmdTuples(result);
        changes_ = tuples && *tuples ? std::stoll(tuples) : 0;
        PQclear(result);
        continue; // then NULL: the query is complete
      }
      default: {
        std::string reason = libpq_message(PQresultErrorMessage(result));
        PQclear(result);
        finish();
        db_.fail(reason, sql_);
      }
      }
    }
  }

  void reset() override {
    finish();
    state_ = State::idle;
    changes_ = 0;
    for (auto& value : values_) value.reset();
  }
  std::int64_t changes() const override { return changes_; }
  std::string text(int column) const override {
    if (!row_ || PQgetisnull(row_, 0, column)) return {};
    return std::string(PQgetvalue(row_, 0, column), static_cast<std::size_t>(PQgetlength(row_, 0, column)));
  }
  std::int64_t integer(int column) const override {
    if (!row_ || PQgetisnull(row_, 0, column)) return 0;
    const char* value = PQgetvalue(row_, 0, column);
    if (*value == 't') return 1; // a boolean column
    if (*value == 'f') return 0;
    return std::strtoll(value, nullptr, 10);
  }
  bool is_null(int column) const override { return !row_ || PQgetisnull(row_, 0, column); }

  /// Reads every remaining result into memory so the connection is free for another query.
  void buffer_rest() {
    while (PGresult* result = PQgetResult(db_.conn())) buffered_.push_back(result);
    state_ = State::buffered;
    db_.release(this);
  }

private:
  enum class State { idle, streaming, buffered, done };

  std::optional<std::string>& slot(int index) {
    if (index < 1 || static_cast<std::size_t>(index) > positions_.size())
      throw Error("store " + db_.name() + ": parameter " + std::to_string(index) + " out of range (in: " +
                  sql_.substr(0, 80) + ")");
    if (state_ != State::idle) reset_keeping_values();
    int position = positions_[static_cast<std::size_t>(index) - 1];
    return position >= 0 ? values_[static_cast<std::size_t>(position)] : unused_;
  }
  void reset_keeping_values() {
    finish();
    state_ = State::idle;
  }

  void start() {
    db_.claim(this);
    std::vector<const char*> pointers;
    pointers.reserve(values_.size());
    for (const auto& value : values_) pointers.push_back(value ? value->c_str() : nullptr);
    if (!PQsendQueryPrepared(db_.conn(), name_.c_str(), static_cast<int>(pointers.size()), pointers.data(), nullptr,
                             nullptr, 0)) {
      db_.release(this);
      db_.fail(libpq_message(PQerrorMessage(db_.conn())), sql_);
    }
    PQsetSingleRowMode(db_.conn());
    state_ = State::streaming;
  }

  PGresult* next_result() {
    if (state_ == State::buffered) {
      if (buffered_.empty()) return nullptr;
      PGresult* result = buffered_.front();
      buffered_.pop_front();
      return result;
    }
    if (state_ != State::streaming) return nullptr;
    PGresult* result = PQgetResult(db_.conn());
    if (!result) db_.release(this);
    return result;
  }

  void clear_row() {
    PQclear(row_);
    row_ = nullptr;
  }

  // Drops what is left of the current execution (draining the connection if it still streams).
  void finish() {
    clear_row();
    if (state_ == State::streaming) {
      while (PGresult* result = PQgetResult(db_.conn())) PQclear(result);
      db_.release(this);
    }
    for (auto* result : buffered_) PQclear(result);
    buffered_.clear();
    if (state_ != State::idle) state_ = State::done;
  }

  PostgresDatabase& db_;
  std::string sql_;
  std::vector<int> positions_;
  std::vector<std::optional<std::string>> values_;
  std::optional<std::string> unused_; // where a value for an index the statement never uses goes
  const std::string& name_;
  State state_ = State::idle;
  PGresult* row_ = nullptr;
  std::deque<PGresult*> buffered_;
  std::int64_t changes_ = 0;
};

void PostgresDatabase::claim(PostgresCursor* next) {
  if (active_ && active_ != next) active_->buffer_rest();
  active_ = next;
}

const std::string& PostgresDatabase::statement_name(const std::string& sql, int parameters) {
  auto it = prepared_.find(sql);
  if (it != prepared_.end()) return it->second;
  claim(nullptr);
  std::string name = "gostly_" + std::to_string(prepared_.size() + 1);
  PGresult* result = PQprepare(conn_, name.c_str(), sql.c_str(), parameters, nullptr);
  if (PQresultStatus(result) != PGRES_COMMAND_OK) {
    std::string reason = result ? libpq_message(PQresultErrorMessage(result)) : libpq_message(PQerrorMessage(conn_));
    PQclear(result);
    fail(reason, sql);
  }
  PQclear(result);
  return prepared_.emplace(sql, std::move(name)).first->second;
}

std::unique_ptr<Cursor> PostgresDatabase::prepare(std::string_view sql) {
  std::vector<int> positions;
  std::string translated = to_dollar_placeholders(sql, positions);
  return std::make_unique<PostgresCursor>(*this, std::move(translated), std::move(positions));
}

int PostgresDatabase::user_version() {
  // pg_class is read with the statement's snapshot, not to_regclass(): that caches "no such
  // table" for the backend, and a connection that queued for the migration (LibraryDb's re-check
  // under the writer lock) then still missed the table another connection had just created, and
  // migrated again ("relation services already exists").
  PostgresCursor exists(*this,
                        "SELECT EXISTS(SELECT 1 FROM pg_catalog.pg_class c WHERE c.relname = 'gostly_schema_version' "
                        "AND pg_catalog.pg_table_is_visible(c.oid))",
                        {});
  if (!exists.step() || exists.integer(0) == 0) return 0;
  exists.reset();
  PostgresCursor version(*this, "SELECT version FROM gostly_schema_version", {});
  return version.step() ? static_cast<int>(version.integer(0)) : 0;
}

void PostgresDatabase::set_user_version(int version) {
  exec("CREATE TABLE IF NOT EXISTS gostly_schema_version(version INTEGER NOT NULL); "
       "DELETE FROM gostly_schema_version; INSERT INTO gostly_schema_version VALUES(" +
       std::to_string(version) + ")");
}

void PostgresDatabase::notify(std::string_view channel, std::string_view payload) {
  PostgresCursor send(*this, "SELECT pg_notify($1, $2)", {0, 1});
  send.bind_text(1, channel);
  send.bind_text(2, payload);
  while (send.step()) {
  }
}

} // namespace

std::unique_ptr<Database> open_postgres(const std::string& conninfo) {
  return std::make_unique<PostgresDatabase>(conninfo);
}

} // namespace gostly::store::sql
