// The mock library in a store: SQLite (data/library.db) or PostgreSQL (--store), through
// store/sql.hpp. What follows is said for SQLite; PostgreSQL gives the same guarantees with MVCC
// snapshots and an advisory lock for the writer queue (store/postgres.cpp).
//
// Why SQLite in WAL mode: gostly-serve reads the library while gostly-transition (or the serve
// process itself, through POST /v1/transition {"action":"run"}) writes it. WAL lets readers keep
// reading the last committed snapshot while one writer works. Writers queue on a lock file
// beside the database (sql::Transaction), so a second transition waits for the first however
// long it takes instead of failing when SQLite's busy timeout runs out.
//
// The invariant: a reader never sees half an import. Every import is one transaction, taken with
// BEGIN IMMEDIATE so the write lock is held from the start (a deferred transaction could fail with
// SQLITE_BUSY on its first write after doing work). The mock index of every service the import
// touched is rebuilt inside that same transaction, just before COMMIT, so `recordings` and `mocks`
// always agree.
//
// Dedupe: interaction ids are UNIQUE; ON CONFLICT DO NOTHING plus the changed-row count tells added from
// duplicate without a separate lookup. Records without an id get one derived from their content,
// so re-running a transition over the same id-less file adds nothing.
//
// The mock index: for each match key, the recordings of the newest session (the session whose
// last recording is latest) that contains that key, in recorded order. Taking one session rather
// than all of them keeps a replayed suite consistent: `GET /posts/1` before and after a PATCH
// replays the two answers of one run, not a mix of answers from runs that disagree. The rebuild
// is a single INSERT ... SELECT with window functions, so it stays inside SQLite and streams.
//
// A spec or a collection states no order: an OpenAPI operation documented with 200 and 404, or a
// Postman request with several saved examples, is one key with several answers that never
// happened one after another. For those curated sources (openapi, postman) a key keeps a single
// answer, the documented success (lowest 2xx, else 3xx, else the lowest status); replaying them
// in sequence would answer a suite's second call with the 404 example. Every answer stays in
// `recordings`.
//
// Recorded order is (recorded_at, rowid): recorded_at is normalised to RFC 3339 UTC with
// milliseconds in its column (the stored record keeps the original text), so string order is time
// order; rowid breaks ties between interactions stamped in the same millisecond.
#include "store/library_db.hpp"

#include "record/codec.hpp"
#include "store/mode.hpp"
#include "store/location.hpp"
#include "store/sql.hpp"
#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

namespace gostly::store {

namespace {

constexpr int kSchemaVersion = 3;
// Migrations 2 and 3 read the same in both dialects.
// 2: per-service extra redacted header names (PUT /services/{id} redact_headers), a JSON array.
constexpr const char* kAddRedactHeaders = "ALTER TABLE services ADD COLUMN redact_headers TEXT NULL";
// 3: per-service chaos (PUT /services/{id} chaos, serve/chaos.hpp), its JSON text.
constexpr const char* kAddChaos = "ALTER TABLE services ADD COLUMN chaos TEXT NULL";

// Each entry migrates from version (index) to version (index + 1); one list per engine, the same
// tables and versions in each dialect.
constexpr const char* kSqliteMigrations[] = {
    R"sql(
CREATE TABLE services(
  id TEXT PRIMARY KEY,
  mode TEXT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL);
CREATE TABLE recordings(
  id INTEGER PRIMARY KEY,
  interaction_id TEXT NOT NULL UNIQUE,
  service_id TEXT NOT NULL REFERENCES services(id),
  session_id TEXT NOT NULL,
  source TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  method TEXT NOT NULL,
  uri TEXT NOT NULL,
  status INTEGER NOT NULL,
  match_key TEXT NOT NULL,
  record TEXT NOT NULL);
CREATE INDEX recordings_by_key ON recordings(service_id, match_key, session_id);
CREATE INDEX recordings_by_session ON recordings(service_id, session_id, recorded_at);
CREATE TABLE mocks(
  service_id TEXT NOT NULL,
  match_key TEXT NOT NULL,
  ordinal INTEGER NOT NULL,
  recording_id INTEGER NOT NULL REFERENCES recordings(id),
  PRIMARY KEY(service_id, match_key, ordinal)) WITHOUT ROWID;
CREATE VIEW sessions AS
  SELECT service_id, session_id, MIN(recorded_at) AS first_recorded_at,
         MAX(recorded_at) AS last_recorded_at, COUNT(*) AS interactions,
         SUM(source = 'learn') AS learn_interactions
  FROM recordings GROUP BY service_id, session_id;
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql",
    kAddRedactHeaders,
    kAddChaos,
};
static_assert(std::size(kSqliteMigrations) == kSchemaVersion);

// Text columns that are keys or sort orders are COLLATE "C": byte order, as in SQLite, whatever
// the database's locale.
constexpr const char* kPostgresMigrations[] = {
    R"sql(
CREATE TABLE services(
  id TEXT COLLATE "C" PRIMARY KEY,
  mode TEXT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL);
CREATE TABLE recordings(
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  interaction_id TEXT COLLATE "C" NOT NULL UNIQUE,
  service_id TEXT COLLATE "C" NOT NULL REFERENCES services(id),
  session_id TEXT COLLATE "C" NOT NULL,
  source TEXT NOT NULL,
  recorded_at TEXT COLLATE "C" NOT NULL,
  method TEXT NOT NULL,
  uri TEXT NOT NULL,
  status INTEGER NOT NULL,
  match_key TEXT COLLATE "C" NOT NULL,
  record TEXT NOT NULL);
CREATE INDEX recordings_by_key ON recordings(service_id, match_key, session_id);
CREATE INDEX recordings_by_session ON recordings(service_id, session_id, recorded_at);
CREATE TABLE mocks(
  service_id TEXT COLLATE "C" NOT NULL,
  match_key TEXT COLLATE "C" NOT NULL,
  ordinal INTEGER NOT NULL,
  recording_id BIGINT NOT NULL REFERENCES recordings(id),
  PRIMARY KEY(service_id, match_key, ordinal));
CREATE VIEW sessions AS
  SELECT service_id, session_id, MIN(recorded_at) AS first_recorded_at,
         MAX(recorded_at) AS last_recorded_at, COUNT(*) AS interactions,
         SUM(CASE WHEN source = 'learn' THEN 1 ELSE 0 END) AS learn_interactions
  FROM recordings GROUP BY service_id, session_id;
CREATE TABLE meta(key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
)sql",
    kAddRedactHeaders,
    kAddChaos,
};
static_assert(std::size(kPostgresMigrations) == kSchemaVersion);

// One pass over the service's recordings, no join back: each recording learns its key's chosen
// session (FIRST_VALUE over the key's rows ordered by their session's last recording), so the
// plan stays linear even when PostgreSQL has no statistics yet for rows this very transaction
// inserted (a join of the chosen sessions back to recordings went nested-loop: 4000 rows, 11 s).
constexpr const char* kRebuildMocks = R"sql(
WITH session_last AS (
  SELECT session_id, MAX(recorded_at) AS last_at, MAX(id) AS last_id
  FROM recordings WHERE service_id = ?1 GROUP BY session_id),
keyed AS (
  SELECT r.id, r.match_key, r.session_id, r.recorded_at, r.source, r.status,
         FIRST_VALUE(r.session_id) OVER (PARTITION BY r.match_key ORDER BY s.last_at DESC, s.last_id DESC)
           AS chosen_session
  FROM recordings r JOIN session_last s ON s.session_id = r.session_id
  WHERE r.service_id = ?1),
candidates AS (
  SELECT id, match_key, recorded_at, source,
         ROW_NUMBER() OVER (PARTITION BY match_key ORDER BY
           CASE WHEN status BETWEEN 200 AND 299 THEN 0 WHEN status BETWEEN 300 AND 399 THEN 1 ELSE 2 END,
           status, recorded_at, id) AS preference
  FROM keyed WHERE session_id = chosen_session)
INSERT INTO mocks(service_id, match_key, ordinal, recording_id)
SELECT ?1, match_key, ROW_NUMBER() OVER (PARTITION BY match_key ORDER BY recorded_at, id) - 1, id
FROM candidates
WHERE source NOT IN ('openapi', 'postman') OR preference = 1
)sql";

record::Interaction decode_record(const std::string& text, std::int64_t row) {
  try {
    return record::from_json(nlohmann::json::parse(text));
  } catch (const record::FieldError& e) {
    throw Error("library.db: recording " + std::to_string(row) + ": " + e.field + ": " + e.reason);
  } catch (const nlohmann::json::exception& e) {
    throw Error("library.db: recording " + std::to_string(row) + ": " + e.what());
  }
}

void require_safe_field(const std::string& id, const char* field) {
  if (!util::is_safe_id(id))
    throw record::FieldError{field, "not a safe id (1-128 of [A-Za-z0-9._-], not starting with '.' or '-'): '" +
                                        id.substr(0, 40) + "'"};
}

/// The services.redact_headers column: a JSON array of lower-case names, NULL when never set.
std::vector<std::string> decode_header_names(const std::optional<std::string>& text, const std::string& service) {
  std::vector<std::string> names;
  if (!text) return names;
  try {
    for (const auto& name : nlohmann::json::parse(*text)) names.push_back(name.get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    throw Error("library.db: service " + service + ": redact_headers: " + e.what());
  }
  return names;
}

void upsert_service(sql::Database& db, const std::string& id) {
  sql::Statement insert(db, "INSERT INTO services(id, mode, created_at, updated_at) VALUES(?1, NULL, ?2, ?2) "
                            "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at");
  insert.bind(1, id).bind(2, util::now_iso8601()).run();
}

} // namespace

std::string match_key(std::string_view method, std::string_view uri, std::string_view body) {
  std::string key;
  key.reserve(method.size() + uri.size() + 66);
  key.append(method).append(" ").append(uri).append("\n");
  if (!body.empty()) key += util::sha256_hex(body);
  return key;
}

std::string match_key(const record::Interaction& interaction) {
  return match_key(interaction.request.method, interaction.request.uri, interaction.request.body);
}

LibraryDb::LibraryDb(const std::filesystem::path& path) : LibraryDb(StoreLocation::sqlite(path)) {}

LibraryDb::LibraryDb(const StoreLocation& location) : db_(location.connect()) {
  // The version is read before any write lock is asked for: opening an up-to-date library (a
  // gostly-serve reload, a reader) never waits behind an import in progress.
  int current = db_->user_version();
  if (current == kSchemaVersion) return;
  sql::Transaction migration(*db_);
  current = db_->user_version(); // another process may have migrated while this one queued
  if (current > kSchemaVersion)
    throw Error(db_->name() + ": schema version " + std::to_string(current) + " is newer than this gostly understands (" +
                std::to_string(kSchemaVersion) + ")");
  const auto& migrations = db_->engine() == Engine::postgres ? kPostgresMigrations : kSqliteMigrations;
  for (int v = current; v < kSchemaVersion; ++v) db_->exec(migrations[v]);
  if (current != kSchemaVersion) {
    db_->set_user_version(kSchemaVersion);
    spdlog::info("{}: library schema migrated from version {} to {}", db_->name(), current, kSchemaVersion);
  }
  migration.commit();
}

int LibraryDb::schema_version() { return db_->user_version(); }
int LibraryDb::current_schema_version() noexcept { return kSchemaVersion; }

const std::string& LibraryDb::name() const noexcept { return db_->name(); }

LibraryDb::~LibraryDb() = default;

namespace {

// The import's rows go in multi-row INSERTs of up to kBatchRows rows (or about kBatchBytes of
// records), not one statement a row: on PostgreSQL that is one round trip per batch instead of
// per row, twice the throughput on loopback (100k 1 KB records in 17 s instead of 35 s, the
// client's CPU time down 40%), more over a network; SQLite does the same work either way. Batches
// are cut into chunks of 256, 64, 16, 4 and 1 rows so a handful of prepared statements serve
// every size. Rows keep their order (recorded order breaks ties by id), ON CONFLICT DO NOTHING
// skips a duplicate id whether it is stored already or earlier in the same chunk, and the
// INSERT's row count tells added from duplicates exactly.
constexpr std::size_t kBatchRows = 256;
constexpr std::size_t kBatchBytes = 4 << 20;
constexpr std::size_t kChunkSizes[] = {256, 64, 16, 4, 1};
constexpr const char* kInsertColumns = "INSERT INTO recordings(interaction_id, service_id, session_id, source, "
                                       "recorded_at, method, uri, status, match_key, record) VALUES";

struct PendingRow {
  std::string id, service, session, source, sort_time, method, uri;
  std::int64_t status;
  std::string key, record;
};

std::string multi_row_insert(std::size_t rows) {
  std::string sql = kInsertColumns;
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r ? ",(" : "(";
    for (std::size_t c = 1; c <= 10; ++c) sql += (c > 1 ? ",?" : "?") + std::to_string(r * 10 + c);
    sql += ')';
  }
  return sql + " ON CONFLICT DO NOTHING";
}

} // namespace

struct LibraryDb::Import::State {
  sql::Database& db;
  sql::Transaction transaction;
  sql::Statement insert;
  std::set<std::string> services;
  std::string default_session = util::random_id("sess", true);
  ImportStats stats;
  std::vector<PendingRow> pending; // rows not sent yet (counted in stats once sent)
  std::size_t pending_bytes = 0;
  std::map<std::size_t, sql::Statement> chunk_inserts; // rows per statement -> its INSERT

  explicit State(sql::Database& handle)
      : db(handle), transaction(handle),
        insert(handle, std::string(kInsertColumns) + "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING") {}

  void store(PendingRow row) {
    pending_bytes += row.record.size();
    pending.push_back(std::move(row));
    if (pending.size() >= kBatchRows || pending_bytes >= kBatchBytes) flush();
  }

  /// Sends the pending rows; stats are exact afterwards.
  void flush() {
    std::size_t done = 0;
    for (std::size_t size : kChunkSizes) {
      while (pending.size() - done >= size) {
        sql::Statement& chunk = size == 1 ? insert : chunk_insert(size);
        chunk.reset();
        for (std::size_t r = 0; r < size; ++r) bind_row(chunk, static_cast<int>(r * 10), pending[done + r]);
        auto added = static_cast<std::uint64_t>(chunk.run());
        stats.added += added;
        stats.duplicates += size - added;
        done += size;
      }
    }
    pending.clear();
    pending_bytes = 0;
  }

  sql::Statement& chunk_insert(std::size_t rows) {
    auto found = chunk_inserts.find(rows);
    if (found == chunk_inserts.end()) found = chunk_inserts.try_emplace(rows, db, multi_row_insert(rows)).first;
    return found->second;
  }

  static void bind_row(sql::Statement& statement, int base, const PendingRow& row) {
    statement.bind(base + 1, row.id)
        .bind(base + 2, row.service)
        .bind(base + 3, row.session)
        .bind(base + 4, row.source)
        .bind(base + 5, row.sort_time)
        .bind(base + 6, row.method)
        .bind(base + 7, row.uri)
        .bind(base + 8, row.status)
        .bind(base + 9, row.key)
        .bind(base + 10, row.record);
  }
};

LibraryDb::Import::Import(LibraryDb& db) : state_(std::make_unique<State>(db.handle())) {}

LibraryDb::Import::~Import() = default;

const std::string& LibraryDb::Import::default_session_id() const { return state_->default_session; }

void LibraryDb::Import::add(const record::Interaction& original) {
  if (!state_) throw Error("library.db: import already committed");
  record::Interaction interaction = original;
  // The content id is taken before the defaults below (which differ per run) are filled in.
  if (interaction.id.empty()) interaction.id = "int-" + util::sha256_hex(record::encode_line(interaction)).substr(0, 32);
  require_safe_field(interaction.service_id, "service_id");
  if (interaction.session_id.empty()) interaction.session_id = state_->default_session;
  require_safe_field(interaction.session_id, "session_id");

  std::string sort_time;
  if (interaction.recorded_at.empty()) {
    interaction.recorded_at = util::now_iso8601();
    sort_time = interaction.recorded_at;
  } else {
    auto when = util::parse_iso8601(interaction.recorded_at);
    if (!when) throw record::FieldError{"recorded_at", "not an RFC 3339 date-time: '" + interaction.recorded_at.substr(0, 40) + "'"};
    sort_time = util::format_iso8601(*when);
  }
  if (state_->services.insert(interaction.service_id).second) upsert_service(state_->db, interaction.service_id);

  std::string key = match_key(interaction);
  std::string line = record::encode_line(interaction);
  state_->store(PendingRow{std::move(interaction.id), std::move(interaction.service_id),
                           std::move(interaction.session_id), std::move(interaction.source), std::move(sort_time),
                           std::move(interaction.request.method), std::move(interaction.request.uri),
                           std::int64_t{interaction.response.status}, std::move(key), std::move(line)});
}

ImportStats LibraryDb::Import::progress() const {
  if (!state_) throw Error("library.db: import already committed");
  state_->flush();
  ImportStats stats = state_->stats;
  stats.services_touched.assign(state_->services.begin(), state_->services.end());
  return stats;
}

ImportStats LibraryDb::Import::commit() {
  if (!state_) throw Error("library.db: import already committed");
  state_->flush();
  for (const auto& service : state_->services) {
    sql::Statement clear(state_->db, "DELETE FROM mocks WHERE service_id = ?1");
    clear.bind(1, service).run();
    sql::Statement rebuild(state_->db, kRebuildMocks);
    rebuild.bind(1, service).run();
    // Every gostly-serve on a shared store reloads this service once the commit is visible.
    if (state_->stats.added > 0) state_->db.notify(kLibraryChannel, service);
  }
  state_->transaction.commit();
  ImportStats stats = std::move(state_->stats);
  stats.services_touched.assign(state_->services.begin(), state_->services.end());
  state_.reset();
  return stats;
}

std::vector<ServiceRow> LibraryDb::services() {
  sql::Statement query(*db_, R"sql(
SELECT s.id, s.mode,
       (SELECT COUNT(*) FROM recordings r WHERE r.service_id = s.id),
       (SELECT COUNT(*) FROM mocks m WHERE m.service_id = s.id),
       (SELECT MAX(recorded_at) FROM recordings r WHERE r.service_id = s.id),
       s.redact_headers
FROM services s ORDER BY s.id)sql");
  std::vector<ServiceRow> rows;
  while (query.step()) {
    rows.push_back(ServiceRow{query.text(0), query.optional_text(1), static_cast<std::uint64_t>(query.integer(2)),
                              static_cast<std::uint64_t>(query.integer(3)), query.optional_text(4),
                              decode_header_names(query.optional_text(5), query.text(0))});
  }
  return rows;
}

std::optional<ServiceRow> LibraryDb::service(const std::string& id) {
  for (auto& row : services())
    if (row.id == id) return std::move(row);
  return std::nullopt;
}

RecordingSummary LibraryDb::recording_summary(const std::string& service_id, bool learn_only) {
  sql::Statement select(*db_, "SELECT COUNT(*), MAX(recorded_at) FROM recordings "
                             "WHERE service_id = ?1 AND (?2 = 0 OR source = 'learn')");
  select.bind(1, service_id).bind(2, std::int64_t{learn_only ? 1 : 0});
  RecordingSummary out;
  if (select.step()) out = RecordingSummary{static_cast<std::uint64_t>(select.integer(0)), select.optional_text(1)};
  return out;
}

void LibraryDb::ensure_service(const std::string& id) {
  util::require_safe_id(id, "service id");
  sql::Statement insert(*db_, "INSERT INTO services(id, mode, created_at, updated_at) VALUES(?1, NULL, ?2, ?2) ON CONFLICT DO NOTHING");
  insert.bind(1, id).bind(2, util::now_iso8601()).run();
}

void LibraryDb::set_service_mode(const std::string& id, const std::optional<std::string>& mode) {
  util::require_safe_id(id, "service id");
  std::optional<std::string> canonical;
  if (mode) {
    auto parsed = parse_settable_mode(*mode);
    if (!parsed)
      throw UsageError("mode: expected " + std::string(kSettableModes) + ", got '" + mode->substr(0, 40) + "'");
    canonical = std::string(to_string(*parsed));
  }
  sql::Statement upsert(*db_, "INSERT INTO services(id, mode, created_at, updated_at) VALUES(?1, ?2, ?3, ?3) "
                             "ON CONFLICT(id) DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at");
  upsert.bind(1, id).bind_optional(2, canonical).bind(3, util::now_iso8601()).run();
  db_->notify(kLibraryChannel, id);
}

void LibraryDb::set_service_redact_headers(const std::string& id, const std::vector<std::string>& names) {
  util::require_safe_id(id, "service id");
  nlohmann::json list = nlohmann::json::array();
  for (const auto& name : names) {
    if (!record::is_token(name)) throw UsageError("redact_headers: not a header name: '" + name.substr(0, 40) + "'");
    list.push_back(util::to_lower(name));
  }
  sql::Statement upsert(*db_, "INSERT INTO services(id, mode, created_at, updated_at, redact_headers) "
                             "VALUES(?1, NULL, ?2, ?2, ?3) ON CONFLICT(id) DO UPDATE SET "
                             "redact_headers = excluded.redact_headers, updated_at = excluded.updated_at");
  upsert.bind(1, id).bind(2, util::now_iso8601()).bind(3, list.dump()).run();
  db_->notify(kLibraryChannel, id);
}

std::vector<std::pair<std::string, std::string>> LibraryDb::service_chaos() {
  std::vector<std::pair<std::string, std::string>> rows;
  sql::Statement query(*db_, "SELECT id, chaos FROM services WHERE chaos IS NOT NULL ORDER BY id");
  while (query.step()) rows.emplace_back(query.text(0), query.text(1));
  return rows;
}

void LibraryDb::set_service_chaos(const std::string& id, const std::optional<std::string>& chaos_json) {
  util::require_safe_id(id, "service id");
  sql::Statement upsert(*db_, "INSERT INTO services(id, mode, created_at, updated_at, chaos) VALUES(?1, NULL, ?2, ?2, ?3) "
                             "ON CONFLICT(id) DO UPDATE SET chaos = excluded.chaos, updated_at = excluded.updated_at");
  upsert.bind(1, id).bind(2, util::now_iso8601()).bind_optional(3, chaos_json).run();
  db_->notify(kLibraryChannel, id);
}

void LibraryDb::for_each_mock(const std::string& service_id,
                              const std::function<void(record::Interaction&&)>& visit) {
  sql::Statement query(*db_, R"sql(
SELECT r.id, r.record FROM (
  SELECT m.match_key, m.ordinal, m.recording_id,
         MIN(r.recorded_at) OVER (PARTITION BY m.match_key) AS key_first,
         MIN(r.id) OVER (PARTITION BY m.match_key) AS key_first_id
  FROM mocks m JOIN recordings r ON r.id = m.recording_id
  WHERE m.service_id = ?1) k
JOIN recordings r ON r.id = k.recording_id
ORDER BY k.key_first, k.key_first_id, k.ordinal)sql");
  query.bind(1, service_id);
  while (query.step()) visit(decode_record(query.text(1), query.integer(0)));
}

std::vector<record::Interaction> LibraryDb::load_library(const std::string& service_id) {
  std::vector<record::Interaction> library;
  // Moved, not copied: a library is mostly bodies.
  for_each_mock(service_id, [&](record::Interaction&& interaction) { library.push_back(std::move(interaction)); });
  return library;
}

std::uint64_t LibraryDb::library_size(const std::string& service_id) {
  sql::Statement count(*db_, "SELECT COUNT(*) FROM mocks WHERE service_id = ?1");
  count.bind(1, service_id).step();
  return static_cast<std::uint64_t>(count.integer(0));
}

std::vector<SessionRow> LibraryDb::sessions(const std::string& service_id) {
  sql::Statement query(*db_, "SELECT service_id, session_id, first_recorded_at, last_recorded_at, interactions, "
                            "learn_interactions FROM sessions WHERE service_id = ?1 ORDER BY first_recorded_at, session_id");
  query.bind(1, service_id);
  std::vector<SessionRow> rows;
  while (query.step())
    rows.push_back(SessionRow{query.text(0), query.text(1), query.text(2), query.text(3),
                              static_cast<std::uint64_t>(query.integer(4)), static_cast<std::uint64_t>(query.integer(5))});
  return rows;
}

bool LibraryDb::has_session(const std::string& service_id, const std::string& session_id) {
  sql::Statement query(*db_, "SELECT 1 FROM recordings WHERE service_id = ?1 AND session_id = ?2 LIMIT 1");
  query.bind(1, service_id).bind(2, session_id);
  return query.step();
}

void LibraryDb::for_each_recording(const std::string& service_id, const std::optional<std::string>& session_id,
                                   bool learn_only, const std::function<void(const record::Interaction&)>& visit) {
  // Two statements, not `(?3 IS NULL OR session_id = ?3)`: SQLite cannot use recordings_by_session
  // for that, and a drift check would then read and sort every session of the service. The
  // session is the last parameter so neither statement skips a number: PostgreSQL cannot type a
  // parameter the statement never uses ("could not determine data type of parameter $2").
  sql::Statement query(*db_, session_id
                                ? "SELECT id, record FROM recordings WHERE service_id = ?1 AND session_id = ?3 "
                                  "AND (?2 = 0 OR source = 'learn') ORDER BY recorded_at, id"
                                : "SELECT id, record FROM recordings WHERE service_id = ?1 "
                                  "AND (?2 = 0 OR source = 'learn') ORDER BY recorded_at, id");
  query.bind(1, service_id).bind(2, std::int64_t{learn_only ? 1 : 0});
  if (session_id) query.bind(3, *session_id);
  while (query.step()) visit(decode_record(query.text(1), query.integer(0)));
}

int LibraryDb::domain_version(const std::string& domain) {
  sql::Statement query(*db_, "SELECT value FROM meta WHERE key = ?1");
  query.bind(1, "schema." + domain);
  return query.step() ? std::stoi(query.text(0)) : 0;
}

void LibraryDb::set_domain_version(const std::string& domain, int version) {
  sql::Statement upsert(*db_, "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  upsert.bind(1, "schema." + domain).bind(2, std::to_string(version)).run();
}

std::string LibraryDb::change_marker() {
  // Recordings are only ever added and every settings change stamps updated_at, so these three
  // move whenever anything a gostly-serve loads has changed.
  sql::Statement query(*db_, "SELECT (SELECT COALESCE(MAX(id), 0) FROM recordings), (SELECT COUNT(*) FROM services), "
                             "(SELECT MAX(updated_at) FROM services)");
  query.step();
  return std::to_string(query.integer(0)) + "/" + std::to_string(query.integer(1)) + "/" + query.text(2);
}

} // namespace gostly::store
