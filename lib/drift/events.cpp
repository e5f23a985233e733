#include "drift/events.hpp"

#include "store/sqlite.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cstdio>

namespace gostly::drift {
namespace {

constexpr int kSchemaVersion = 2;

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS drift_events(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  service_id TEXT NOT NULL,
  route TEXT NOT NULL,
  method TEXT NOT NULL,
  baseline_session_id TEXT NOT NULL,
  current_session_id TEXT NOT NULL,
  change_type TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('major', 'minor')),
  diff TEXT NOT NULL,
  detected_at TEXT NOT NULL,
  acknowledged_at TEXT,
  UNIQUE (service_id, route, method, current_session_id));
CREATE INDEX IF NOT EXISTS drift_events_by_service ON drift_events(service_id, detected_at);
CREATE TABLE IF NOT EXISTS drift_acknowledgements(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id INTEGER NOT NULL REFERENCES drift_events(id),
  user_id TEXT,
  reason TEXT,
  acknowledged_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS drift_acknowledgements_by_event ON drift_acknowledgements(event_id);
CREATE TRIGGER IF NOT EXISTS drift_acknowledgements_no_update BEFORE UPDATE ON drift_acknowledgements
BEGIN SELECT RAISE(ABORT, 'drift acknowledgements are append-only'); END;
CREATE TRIGGER IF NOT EXISTS drift_acknowledgements_no_delete BEFORE DELETE ON drift_acknowledgements
BEGIN SELECT RAISE(ABORT, 'drift acknowledgements are append-only'); END;
CREATE TABLE IF NOT EXISTS drift_score_cache(
  service_id TEXT PRIMARY KEY,
  recordings INTEGER NOT NULL,
  last_recorded_at TEXT,
  distinct_routes INTEGER NOT NULL,
  computed_at TEXT NOT NULL);
)sql";

// Version 2: the key takes the baseline (a check against another baseline is its own event) and
// events carry repeat_of and their diff signature. SQLite cannot change a UNIQUE constraint in
// place, so the table is rebuilt with every row and id kept (acknowledgements point at the ids).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE drift_events_v2(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  service_id TEXT NOT NULL,
  route TEXT NOT NULL,
  method TEXT NOT NULL,
  baseline_session_id TEXT NOT NULL,
  current_session_id TEXT NOT NULL,
  change_type TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('major', 'minor')),
  diff TEXT NOT NULL,
  detected_at TEXT NOT NULL,
  acknowledged_at TEXT,
  repeat_of INTEGER REFERENCES drift_events(id),
  signature TEXT NOT NULL DEFAULT '',
  limits TEXT,
  UNIQUE (service_id, route, method, baseline_session_id, current_session_id));
INSERT INTO drift_events_v2(id, service_id, route, method, baseline_session_id, current_session_id, change_type,
  severity, diff, detected_at, acknowledged_at)
  SELECT id, service_id, route, method, baseline_session_id, current_session_id, change_type, severity, diff,
  detected_at, acknowledged_at FROM drift_events;
DROP TABLE drift_events;
ALTER TABLE drift_events_v2 RENAME TO drift_events;
CREATE INDEX drift_events_by_service ON drift_events(service_id, detected_at);
CREATE INDEX drift_events_by_drift ON drift_events(service_id, route, method, baseline_session_id, signature);
)sql";

// A repeat shows its first event's acknowledgement, whenever that was given.
constexpr const char* kEventColumns =
    "e.id, e.service_id, e.route, e.method, e.baseline_session_id, e.current_session_id, e.change_type, e.severity, "
    "e.diff, e.detected_at, COALESCE(e.acknowledged_at, r.acknowledged_at), e.repeat_of, e.limits";
constexpr const char* kEventFrom = " FROM drift_events e LEFT JOIN drift_events r ON r.id = e.repeat_of";
constexpr const char* kOpen = "COALESCE(e.acknowledged_at, r.acknowledged_at) IS NULL";

DriftEvent read_event(const store::sql::Statement& row) {
  DriftEvent e;
  e.id = row.integer(0);
  e.service_id = row.text(1);
  e.route = row.text(2);
  e.method = row.text(3);
  e.baseline_session_id = row.text(4);
  e.current_session_id = row.text(5);
  e.change_type = row.text(6);
  e.severity = row.text(7) == "major" ? Severity::major : Severity::minor;
  e.diff = nlohmann::json::parse(row.text(8), nullptr, false);
  if (e.diff.is_discarded()) e.diff = nlohmann::json::array();
  e.detected_at = row.text(9);
  e.acknowledged_at = row.optional_text(10);
  if (!row.is_null(11)) e.repeat_of = row.integer(11);
  if (!row.is_null(12)) {
    e.limits = nlohmann::json::parse(row.text(12), nullptr, false);
    if (e.limits.is_discarded()) e.limits = nullptr;
  }
  return e;
}

} // namespace

nlohmann::json to_json(const DriftEvent& e) {
  nlohmann::json out = {{"type", "drift_event"}, {"v", 1}};
  out["id"] = e.id == 0 ? nlohmann::json(nullptr) : nlohmann::json(e.id);
  out["service_id"] = e.service_id;
  out["route"] = e.route;
  out["method"] = e.method;
  out["baseline_session_id"] = e.baseline_session_id;
  out["current_session_id"] = e.current_session_id;
  out["change_type"] = e.change_type;
  out["severity"] = to_string(e.severity);
  out["diff"] = e.diff;
  out["detected_at"] = e.detected_at;
  out["acknowledged_at"] = e.acknowledged_at ? nlohmann::json(*e.acknowledged_at) : nlohmann::json(nullptr);
  out["repeat_of"] = e.repeat_of ? nlohmann::json(*e.repeat_of) : nlohmann::json(nullptr);
  out["limits"] = e.limits;
  return out;
}

nlohmann::json to_json(const Acknowledgement& a) {
  return {{"id", a.id},
          {"event_id", a.event_id},
          {"user_id", a.user_id ? nlohmann::json(*a.user_id) : nlohmann::json(nullptr)},
          {"reason_text", a.reason ? nlohmann::json(*a.reason) : nlohmann::json(nullptr)},
          {"acknowledged_at", a.acknowledged_at}};
}

std::string diff_signature(const nlohmann::json& diff) {
  std::vector<std::string> parts;
  for (const auto& signal : diff) {
    if (!signal.is_object()) continue;
    std::string part;
    for (const char* key : {"signal", "field", "severity", "baseline", "current"}) {
      auto it = signal.find(key);
      if (it != signal.end() && (it->is_string() || it->is_number_integer() || it->is_null())) part += it->dump();
      part += '|';
    }
    parts.push_back(std::move(part));
  }
  std::sort(parts.begin(), parts.end());
  std::string all;
  for (const auto& p : parts) all += p + '\n';
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(value_hash(all)));
  return hex;
}

DriftEvent make_event(const RouteDrift& drift, const std::string& service_id, const std::string& baseline_session,
                      const std::string& current_session, const std::string& detected_at) {
  DriftEvent e;
  e.service_id = service_id;
  e.route = drift.key.route;
  e.method = drift.key.method;
  e.baseline_session_id = baseline_session;
  e.current_session_id = current_session;
  e.change_type = drift.change_type;
  e.severity = drift.severity;
  e.diff = signals_to_json(drift.signals);
  e.limits = drift.limits;
  e.detected_at = detected_at;
  return e;
}

EventStore::EventStore(store::LibraryDb& db) : db_(db) {
  int version = db_.domain_version("drift");
  if (version >= kSchemaVersion) return;
  if (version < 1) {
    store::sql::Transaction migration(db_.handle());
    store::sql::exec(db_.handle(), kSchemaV1);
    db_.set_domain_version("drift", 1);
    migration.commit();
  }
  migrate_to_v2();
}

void EventStore::migrate_to_v2() {
  // Dropping the old table must not cascade into the acknowledgements that point at its ids:
  // foreign keys are off for the rebuild (a pragma that only works outside a transaction) and
  // checked before the commit.
  store::sql::exec(db_.handle(), "PRAGMA foreign_keys=OFF");
  try {
    store::sql::Transaction migration(db_.handle());
    store::sql::exec(db_.handle(), kSchemaV2);
    {
      std::vector<std::pair<std::int64_t, std::string>> signatures;
      store::sql::Statement rows(db_.handle(), "SELECT id, diff FROM drift_events");
      while (rows.step()) {
        auto parsed = nlohmann::json::parse(rows.text(1), nullptr, false);
        signatures.emplace_back(rows.integer(0), diff_signature(parsed.is_discarded() ? nlohmann::json::array() : parsed));
      }
      store::sql::Statement update(db_.handle(), "UPDATE drift_events SET signature = ? WHERE id = ?");
      for (const auto& [id, signature] : signatures) {
        update.reset();
        update.bind(1, signature).bind(2, id);
        update.run();
      }
    }
    {
      store::sql::Statement check(db_.handle(), "PRAGMA foreign_key_check");
      if (check.step()) throw Error("drift schema migration to version 2 would break acknowledgement references");
    }
    db_.set_domain_version("drift", kSchemaVersion);
    migration.commit();
  } catch (...) {
    store::sql::exec(db_.handle(), "PRAGMA foreign_keys=ON");
    throw;
  }
  store::sql::exec(db_.handle(), "PRAGMA foreign_keys=ON");
}

std::vector<EventStore::Stored> EventStore::record(const std::vector<DriftEvent>& events) {
  std::vector<Stored> out;
  store::sql::Transaction transaction(db_.handle());
  store::sql::Statement insert(db_.handle(),
      "INSERT INTO drift_events(service_id, route, method, baseline_session_id, current_session_id, change_type, "
      "severity, diff, detected_at, acknowledged_at, repeat_of, signature, limits) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
      "ON CONFLICT(service_id, route, method, baseline_session_id, current_session_id) DO NOTHING");
  store::sql::Statement select(db_.handle(), std::string("SELECT ") + kEventColumns + kEventFrom +
      " WHERE e.service_id = ? AND e.route = ? AND e.method = ? AND e.baseline_session_id = ? AND e.current_session_id = ?");
  // The first event of the same drift: same service, route, method, baseline and signature.
  store::sql::Statement first(db_.handle(),
      "SELECT id, acknowledged_at FROM drift_events WHERE service_id = ? AND route = ? AND method = ? "
      "AND baseline_session_id = ? AND signature = ? AND repeat_of IS NULL AND current_session_id <> ? "
      "ORDER BY id LIMIT 1");
  for (const auto& e : events) {
    select.reset();
    select.bind(1, e.service_id).bind(2, e.route).bind(3, e.method).bind(4, e.baseline_session_id)
        .bind(5, e.current_session_id);
    if (select.step()) {
      out.push_back(Stored{read_event(select), false});
      continue;
    }
    std::string signature = diff_signature(e.diff);
    first.reset();
    first.bind(1, e.service_id).bind(2, e.route).bind(3, e.method).bind(4, e.baseline_session_id).bind(5, signature)
        .bind(6, e.current_session_id);
    std::optional<std::int64_t> repeat_of;
    std::optional<std::string> acknowledged_at;
    if (first.step()) {
      repeat_of = first.integer(0);
      acknowledged_at = first.optional_text(1);
    }
    insert.reset();
    insert.bind(1, e.service_id).bind(2, e.route).bind(3, e.method).bind(4, e.baseline_session_id)
        .bind(5, e.current_session_id).bind(6, e.change_type).bind(7, to_string(e.severity))
        .bind(8, e.diff.dump()).bind(9, e.detected_at).bind_optional(10, acknowledged_at).bind(12, signature);
    if (repeat_of) insert.bind(11, *repeat_of);
    else insert.bind_null(11);
    if (e.limits.is_null()) insert.bind_null(13);
    else insert.bind(13, e.limits.dump());
    insert.run();
    select.reset();
    select.bind(1, e.service_id).bind(2, e.route).bind(3, e.method).bind(4, e.baseline_session_id)
        .bind(5, e.current_session_id);
    if (!select.step()) throw Error("drift event vanished after insert: " + e.method + " " + e.route);
    out.push_back(Stored{read_event(select), !repeat_of});
  }
  transaction.commit();
  return out;
}

std::vector<DriftEvent> EventStore::list(const std::optional<std::string>& service_id, bool open_only) {
  std::string sql = std::string("SELECT ") + kEventColumns + kEventFrom + " WHERE 1=1";
  if (service_id) sql += " AND e.service_id = ?";
  if (open_only) sql += std::string(" AND ") + kOpen;
  sql += " ORDER BY e.detected_at DESC, e.id DESC";
  store::sql::Statement select(db_.handle(), sql);
  if (service_id) select.bind(1, *service_id);
  std::vector<DriftEvent> out;
  while (select.step()) out.push_back(read_event(select));
  return out;
}

std::optional<DriftEvent> EventStore::get(std::int64_t id) {
  store::sql::Statement select(db_.handle(), std::string("SELECT ") + kEventColumns + kEventFrom + " WHERE e.id = ?");
  select.bind(1, id);
  if (!select.step()) return std::nullopt;
  return read_event(select);
}

std::vector<Acknowledgement> EventStore::acknowledgements(std::int64_t event_id) {
  store::sql::Statement select(db_.handle(),
      "SELECT id, event_id, user_id, reason, acknowledged_at FROM drift_acknowledgements WHERE event_id = ? ORDER BY id");
  select.bind(1, event_id);
  std::vector<Acknowledgement> out;
  while (select.step())
    out.push_back(Acknowledgement{select.integer(0), select.integer(1), select.optional_text(2), select.optional_text(3),
                                  select.text(4)});
  return out;
}

Acknowledgement EventStore::acknowledge(std::int64_t event_id, const std::optional<std::string>& user_id,
                                        const std::optional<std::string>& reason, const std::string& at) {
  store::sql::Transaction transaction(db_.handle());
  {
    store::sql::Statement exists(db_.handle(), "SELECT 1 FROM drift_events WHERE id = ?");
    exists.bind(1, event_id);
    if (!exists.step()) throw NotFoundError("no drift event with id " + std::to_string(event_id));
  }
  store::sql::Statement insert(db_.handle(),
      "INSERT INTO drift_acknowledgements(event_id, user_id, reason, acknowledged_at) VALUES (?,?,?,?)");
  insert.bind(1, event_id).bind_optional(2, user_id).bind_optional(3, reason).bind(4, at);
  insert.run();
  std::int64_t ack_id = 0;
  {
    store::sql::Statement last(db_.handle(), "SELECT last_insert_rowid()");
    if (last.step()) ack_id = last.integer(0);
  }
  // Acknowledging a repeat acknowledges the drift: its first event too, so the other repeats follow.
  store::sql::Statement mark(db_.handle(),
      "UPDATE drift_events SET acknowledged_at = ?1 WHERE acknowledged_at IS NULL AND "
      "(id = ?2 OR id = (SELECT repeat_of FROM drift_events WHERE id = ?2))");
  mark.bind(1, at).bind(2, event_id);
  mark.run();
  transaction.commit();
  return Acknowledgement{ack_id, event_id, user_id, reason, at};
}

std::uint64_t EventStore::open_count(const std::string& service_id) {
  store::sql::Statement count(db_.handle(),
      "SELECT count(*) FROM drift_events WHERE service_id = ? AND acknowledged_at IS NULL AND repeat_of IS NULL");
  count.bind(1, service_id);
  count.step();
  return static_cast<std::uint64_t>(count.integer(0));
}

std::vector<DayCount> EventStore::per_day(const std::string& service_id, const std::string& first_day) {
  store::sql::Statement select(db_.handle(),
      "SELECT substr(detected_at, 1, 10) AS day, "
      "sum(severity = 'major'), sum(severity = 'minor') FROM drift_events "
      "WHERE service_id = ? AND substr(detected_at, 1, 10) >= ? AND repeat_of IS NULL GROUP BY day ORDER BY day");
  select.bind(1, service_id).bind(2, first_day);
  std::vector<DayCount> out;
  while (select.step())
    out.push_back(DayCount{select.text(0), static_cast<std::uint64_t>(select.integer(1)),
                           static_cast<std::uint64_t>(select.integer(2))});
  return out;
}

std::uint64_t EventStore::total(Severity severity) {
  store::sql::Statement count(db_.handle(), "SELECT count(*) FROM drift_events WHERE severity = ? AND repeat_of IS NULL");
  count.bind(1, to_string(severity));
  count.step();
  return static_cast<std::uint64_t>(count.integer(0));
}

} // namespace gostly::drift
