#pragma once
// The store behind the mock library: SQLite (data/library.db, WAL) or PostgreSQL (--store,
// GOSTLY_STORE), one interface over store/sql.hpp's engines (implemented in library_db.cpp). The
// schema is versioned (SQLite: PRAGMA user_version; PostgreSQL: gostly_schema_version) and
// migrated on open, with the same tables and versions in both engines.
//
// Tables:
//   services(id TEXT PRIMARY KEY, mode TEXT NULL, created_at TEXT, updated_at TEXT,
//            redact_headers TEXT NULL /* JSON array of lower-case header names, since schema 2 */,
//            chaos TEXT NULL /* serve/chaos.hpp config as JSON, since schema 3 */)
//   recordings(id INTEGER PRIMARY KEY, interaction_id TEXT UNIQUE, service_id TEXT, session_id TEXT,
//              source TEXT, recorded_at TEXT, method TEXT, uri TEXT, status INTEGER,
//              match_key TEXT, record TEXT /* the full JSONL line, floor already stripped */)
//   mocks(service_id TEXT, match_key TEXT, ordinal INTEGER, recording_id INTEGER,
//         PRIMARY KEY(service_id, match_key, ordinal))
//   sessions view or table: (service_id, session_id, first_recorded_at, last_recorded_at, count)
//   meta(key TEXT PRIMARY KEY, value TEXT): schema versions of other domains (domain_version())
// Other domains (drift) add their own tables through handle() and their own migrations,
// versioned with domain_version()/set_domain_version(). store/sql.hpp is the engine interface.
//
// The mock index: for each (service, match key) it lists, in recorded order, the recordings of
// the newest session (latest last_recorded_at) that has that key, so a suite replayed in the order
// it ran live sees the same sequence of answers. It is rebuilt for every service a transaction
// touched, inside the same transaction, so readers never see a half-built library.
#include "record/interaction.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gostly::store {

class StoreLocation;
namespace sql {
class Database;
}

/// The NOTIFY channel of a shared store: its payload is the id of a service whose library or
/// settings changed (sent when the writing transaction commits).
inline constexpr const char* kLibraryChannel = "gostly_library";

/// `METHOD uri\n<sha256 of the request body, or empty>`: the exact-match key.
std::string match_key(const record::Interaction& interaction);
std::string match_key(std::string_view method, std::string_view uri, std::string_view body);

struct ServiceRow {
  std::string id;
  std::optional<std::string> mode; // per-service mode override, nullopt = follow the global mode
  std::uint64_t recordings = 0;
  std::uint64_t mocks = 0;
  std::optional<std::string> last_recorded_at;
  std::vector<std::string> redact_headers; // per-service extra redacted headers, lower case
};

/// A service's recordings at a glance (see LibraryDb::recording_summary).
struct RecordingSummary {
  std::uint64_t recordings = 0;
  std::optional<std::string> last_recorded_at;
};

struct SessionRow {
  std::string service_id;
  std::string session_id;
  std::string first_recorded_at;
  std::string last_recorded_at;
  std::uint64_t interactions = 0;
  std::uint64_t learn_interactions = 0;
};

struct ImportStats {
  std::uint64_t added = 0;
  std::uint64_t duplicates = 0; // same interaction id already stored
  std::vector<std::string> services_touched;
};

class LibraryDb {
public:
  /// Opens (creating if needed) the SQLite database at `path` in WAL mode with a busy timeout.
  explicit LibraryDb(const std::filesystem::path& path);
  /// Connects to the store and migrates its schema to the current version.
  explicit LibraryDb(const StoreLocation& location);
  ~LibraryDb();
  LibraryDb(const LibraryDb&) = delete;
  LibraryDb& operator=(const LibraryDb&) = delete;

  /// One import: begin() ... add() ... commit(). Destroying without commit() rolls back.
  class Import {
  public:
    explicit Import(LibraryDb& db);
    ~Import();
    /// Stores `interaction` unless its id is already stored (counted in progress()/commit(); rows
    /// are sent in batches, so a database error may surface at a later add() or at commit(), and
    /// whether one row was a duplicate is not known one row at a time). An empty id gets
    /// a content-derived one (`int-<sha256 prefix>`, so re-importing id-less records dedupes), an
    /// empty session id gets one per Import, an empty recorded_at the current time. Throws
    /// record::FieldError for an unsafe service_id/session_id or an unparseable recorded_at.
    void add(const record::Interaction& interaction);
    ImportStats commit(); // rebuilds the mock index of touched services
    /// Counts so far, pending rows sent first (what commit() would report); a dry run reads this
    /// and rolls back.
    ImportStats progress() const;
    /// The session id given to records that arrive without one.
    const std::string& default_session_id() const;
  private:
    struct State;
    std::unique_ptr<State> state_;
  };

  std::vector<ServiceRow> services();
  std::optional<ServiceRow> service(const std::string& id);
  /// How many recordings `service_id` has and when the last was made; LEARN rows only when
  /// `learn_only` (seeded rows carry the epoch, not a time anything was recorded).
  RecordingSummary recording_summary(const std::string& service_id, bool learn_only);
  void ensure_service(const std::string& id);
  /// Stores a service's mode override (LEARN, MOCK or PASSTHROUGH; nullopt = follow the global
  /// mode), creating the service row if needed; UsageError for anything else.
  void set_service_mode(const std::string& id, const std::optional<std::string>& mode);
  /// Stores a service's extra redacted header names (lower-cased; empty clears them), creating
  /// the service row if needed; UsageError for a name that is not an HTTP token.
  void set_service_redact_headers(const std::string& id, const std::vector<std::string>& names);
  /// Per-service chaos configs (serve/chaos.hpp) as stored: (service id, JSON text), for the
  /// services that have one.
  std::vector<std::pair<std::string, std::string>> service_chaos();
  /// Stores (or, with nullopt, clears) the chaos config of `id`, creating the service row.
  void set_service_chaos(const std::string& id, const std::optional<std::string>& chaos_json);

  /// The mock library of `service_id`: every mock row's interaction, grouped by match key in
  /// ordinal order (keys in first-recorded order).
  std::vector<record::Interaction> load_library(const std::string& service_id);
  /// load_library() one interaction at a time (bundle export), same order; the visitor may take
  /// the decoded interaction by rvalue and keep it.
  void for_each_mock(const std::string& service_id, const std::function<void(record::Interaction&&)>& visit);
  std::uint64_t library_size(const std::string& service_id);

  std::vector<SessionRow> sessions(const std::string& service_id);
  bool has_session(const std::string& service_id, const std::string& session_id);

  /// Calls `visit` for each recording of the service (optionally one session, optionally only
  /// source = learn), in recorded order, one at a time (never all in memory).
  void for_each_recording(const std::string& service_id, const std::optional<std::string>& session_id,
                          bool learn_only, const std::function<void(const record::Interaction&)>& visit);

  /// Schema versions of other domains (drift, ...), kept in the `meta` table because PRAGMA
  /// user_version belongs to this class: 0 when `domain` never migrated.
  int domain_version(const std::string& domain);
  void set_domain_version(const std::string& domain, int version);

  /// Changes whenever recordings or service settings change: what a gostly-serve that cannot
  /// LISTEN polls.
  std::string change_marker();

  /// The schema version of the store, and the one this build writes (`--migrate`).
  int schema_version();
  static int current_schema_version() noexcept;

  /// The connection, for domains with their own tables; see store/sql.hpp.
  sql::Database& handle() noexcept { return *db_; }
  /// The file, or the PostgreSQL connection string without its password.
  const std::string& name() const noexcept;

private:
  std::unique_ptr<sql::Database> db_;
};

} // namespace gostly::store
