#pragma once
// Drift events and their acknowledgements in library.db (tables drift_events,
// drift_acknowledgements, drift_score_cache; migrated by this class, version "drift" in meta).
//
// An event is keyed on (service, route, method, baseline_session_id, current_session_id):
// recording the same finding twice returns the stored event and says it was not new, so
// re-running a check never duplicates events or counts them twice, and a check against another
// baseline is its own event. A finding against the same baseline in a later current session
// with the same diff signature (diff_signature) is a *repeat*: stored with repeat_of = the
// first such event, it shares that event's acknowledgement, and is not new (exit status,
// gostly_drift_events_total), not open (score) and not in the sparkline, so a nightly cron check
// alerts once per drift. Acknowledgements are append-only rows (triggers refuse
// UPDATE and DELETE); the event's acknowledged_at keeps the first acknowledgement's time.
#include "drift/diff.hpp"
#include "store/library_db.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gostly::drift {

struct DriftEvent {
  std::int64_t id = 0; // 0 for events not stored (gostly-drift diff)
  std::string service_id;
  std::string route;
  std::string method;
  std::string baseline_session_id;
  std::string current_session_id;
  std::string change_type;
  Severity severity = Severity::minor;
  nlohmann::json diff = nlohmann::json::array();
  std::string detected_at;
  std::optional<std::string> acknowledged_at; // a repeat's is its first event's
  std::optional<std::int64_t> repeat_of;     // the first event of the same drift (see EventStore)
  nlohmann::json limits;                     // null, or what a fingerprint limit cut (RouteDrift::limits)
};

struct Acknowledgement {
  std::int64_t id = 0;
  std::int64_t event_id = 0;
  std::optional<std::string> user_id;
  std::optional<std::string> reason;
  std::string acknowledged_at;
};

/// The `"type":"drift_event"` record (id null when 0).
nlohmann::json to_json(const DriftEvent& event);
nlohmann::json to_json(const Acknowledgement& ack);

/// What makes two findings "the same drift": the signals' kind, field and severity, and their
/// baseline/current descriptions when those are names or integers (types, formats, buckets,
/// statuses), not rates, which move a little with every recording. A hex SHA-256 prefix.
std::string diff_signature(const nlohmann::json& diff);

/// A drifted route as an event between two sessions, detected at `detected_at`.
DriftEvent make_event(const RouteDrift& drift, const std::string& service_id, const std::string& baseline_session,
                      const std::string& current_session, const std::string& detected_at);

struct DayCount {
  std::string day; // YYYY-MM-DD (UTC)
  std::uint64_t major = 0;
  std::uint64_t minor = 0;
};

class EventStore {
public:
  /// Creates or migrates the drift tables in `db`.
  explicit EventStore(store::LibraryDb& db);

  struct Stored {
    DriftEvent event;
    bool is_new = false;
  };
  /// Stores `events` in one transaction; an event whose key already exists is left as stored
  /// and returned as it was first recorded, with is_new false. A repeat is stored with
  /// repeat_of set and is_new false.
  std::vector<Stored> record(const std::vector<DriftEvent>& events);

  /// Events newest first, optionally of one service and only unacknowledged ones.
  std::vector<DriftEvent> list(const std::optional<std::string>& service_id, bool open_only);
  std::optional<DriftEvent> get(std::int64_t id);
  std::vector<Acknowledgement> acknowledgements(std::int64_t event_id);

  /// Appends an acknowledgement row for event `event_id` at `at`; sets the event's
  /// acknowledged_at only if it had none. Throws NotFoundError for an unknown event.
  Acknowledgement acknowledge(std::int64_t event_id, const std::optional<std::string>& user_id,
                              const std::optional<std::string>& reason, const std::string& at);

  std::uint64_t open_count(const std::string& service_id);
  /// Per-day counts for `service_id` on days >= `first_day` (YYYY-MM-DD), empty days omitted.
  std::vector<DayCount> per_day(const std::string& service_id, const std::string& first_day);
  /// Events ever stored, by severity, repeats not counted: the value of
  /// gostly_drift_events_total{severity}, since an event is stored exactly once, when it is new.
  std::uint64_t total(Severity severity);

  store::LibraryDb& db() noexcept { return db_; }

private:
  void migrate_to_v2();
  store::LibraryDb& db_;
};

} // namespace gostly::drift
