#pragma once
// The JSON answers of the control API's drift routes, for gostly-serve to wire in. Each function
// returns the response body; errors are exceptions the server maps to statuses:
//   UsageError -> 400, drift::UnknownSessionError -> 422, other NotFoundError -> 404.
//
//   POST /v1/drift/check                         check(db, body, settings, counters)
//   GET  /v1/drift/events?service_id=&unacknowledged_only=   events(db, service, open_only)
//   GET  /v1/drift/events/{id}                   event(db, id)
//   POST /v1/drift/events/{id}/acknowledge       acknowledge(db, id, body)
//   GET  /v1/drift/freshness-score?service_id=   freshness_score(db, service)
//   GET  /v1/drift/sparkline?service_id=         sparkline(db, service)
//   GET  /v1/drift/metrics                       metrics(db)
//   GET  /metrics (drift part)                   prometheus(db)
#include "drift/check.hpp"
#include "store/library_db.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace gostly::drift::api {

/// Body `{"service_id","baseline_session_id","current_session_id"}` (service_id defaults to
/// `default`) -> `{"events":[...],"count":N,"new":{"major":a,"minor":b}}`. `new` says how much
/// to add to gostly_drift_events_total{severity}; re-checks report 0.
nlohmann::json check(store::LibraryDb& db, const nlohmann::json& body, const DriftSettings& settings);

/// `{"events":[...],"count":N}`, newest first.
nlohmann::json events(store::LibraryDb& db, const std::optional<std::string>& service_id, bool open_only);

/// One event with its `acknowledgements` array; NotFoundError when there is none.
nlohmann::json event(store::LibraryDb& db, std::int64_t id);

/// Body `{}` or `{"user_id","reason_text"}` (both optional strings) -> event(db, id) after the
/// append. Re-acknowledging keeps the first acknowledged_at.
nlohmann::json acknowledge(store::LibraryDb& db, std::int64_t id, const nlohmann::json& body);

/// The `score` record without type/v: service_id, freshness_score, last_recorded_at,
/// distinct_routes, open_drift_event_count, computed_inline, signals.
nlohmann::json freshness_score(store::LibraryDb& db, const std::string& service_id);

/// `{"service_id","days":[{"day","major","minor","total"}]}`, last 30 days, empty days omitted.
nlohmann::json sparkline(store::LibraryDb& db, const std::string& service_id);

/// `{"counters":{"gostly_drift_events_total{severity=\"major\"}":N, ...minor}}`.
nlohmann::json metrics(store::LibraryDb& db);

/// The Prometheus text lines (HELP, TYPE, one sample per severity) for /metrics.
std::string prometheus(store::LibraryDb& db);

/// Parses an event id from a path segment; UsageError unless it is a positive integer.
std::int64_t parse_event_id(const std::string& text);

} // namespace gostly::drift::api
