// Control API, drift: POST /v1/drift/check, GET /v1/drift/events[/{id}], POST
// /v1/drift/events/{id}/acknowledge, GET /v1/drift/freshness-score|sparkline|metrics, and the
// drift lines of GET /metrics. The JSON answers are drift::api's; this file reads the request.
// Routes and limits: control.cpp.
#include "drift/api.hpp"
#include "drift/settings.hpp"
#include "serve/control.hpp"
#include "serve/engine_impl.hpp"
#include "store/library_db.hpp"

#include <spdlog/spdlog.h>

namespace gostly::serve {

using namespace control;

std::string Engine::Impl::drift_check(const ControlCall& call) {
  json body = parse_body(call.request); // nesting limited: the body is never deeper than GOSTLY_MAX_DEPTH
  accept_alias(body, "baseline", "baseline_session_id");
  accept_alias(body, "current", "current_session_id");
  if (!body.contains("service_id")) body["service_id"] = options.default_service;
  drift::DriftSettings settings;
  try {
    settings = drift::DriftSettings::from_environment();
  } catch (const UsageError& e) { // the server's environment, not the caller's request
    throw HttpError(500, std::string("server environment: ") + e.what());
  }
  store::LibraryDb db(data.library());
  json result = drift::api::check(db, body, settings);
  spdlog::info("drift check: {} events, {} new major, {} new minor", result["count"].get<std::uint64_t>(),
               result["new"]["major"].get<std::uint64_t>(), result["new"]["minor"].get<std::uint64_t>());
  return reply_json(200, result);
}

std::string Engine::Impl::drift_events(const ControlCall& call) {
  auto service = query_service(call.request.uri, std::nullopt);
  // `open` is the CLI's word (--open), `unacknowledged_only` the product guide's.
  bool open_only = query_flag(call.request.uri, "open", false) || query_flag(call.request.uri, "unacknowledged_only", false);
  store::LibraryDb db(data.library());
  return reply_json(200, drift::api::events(db, service, open_only));
}

std::string Engine::Impl::drift_event(const ControlCall& call) {
  std::int64_t id = drift::api::parse_event_id(call.params.at(0));
  store::LibraryDb db(data.library());
  return reply_json(200, drift::api::event(db, id));
}

std::string Engine::Impl::drift_acknowledge(const ControlCall& call) {
  std::int64_t id = drift::api::parse_event_id(call.params.at(0));
  json body = parse_body(call.request);
  accept_alias(body, "user", "user_id");
  accept_alias(body, "reason", "reason_text");
  store::LibraryDb db(data.library());
  return reply_json(200, drift::api::acknowledge(db, id, body));
}

std::string Engine::Impl::drift_freshness_score(const ControlCall& call) {
  std::string service = *query_service(call.request.uri, options.default_service);
  store::LibraryDb db(data.library());
  return reply_json(200, drift::api::freshness_score(db, service));
}

std::string Engine::Impl::drift_sparkline(const ControlCall& call) {
  std::string service = *query_service(call.request.uri, options.default_service);
  store::LibraryDb db(data.library());
  return reply_json(200, drift::api::sparkline(db, service));
}

std::string Engine::Impl::drift_metrics(const ControlCall&) {
  store::LibraryDb db(data.library());
  return reply_json(200, drift::api::metrics(db));
}

std::string Engine::Impl::drift_prometheus() {
  if (!data.library().exists()) {
    // Same lines as drift::api::prometheus() gives for an empty store, without creating the file.
    return "# HELP gostly_drift_events_total Drift events detected (new events only; re-checks do not count).\n"
           "# TYPE gostly_drift_events_total counter\n"
           "gostly_drift_events_total{severity=\"major\"} 0\n"
           "gostly_drift_events_total{severity=\"minor\"} 0\n";
  }
  if (!data.library().is_sqlite()) return drift_prometheus_shared();
  try {
    store::LibraryDb db(data.library());
    return drift::api::prometheus(db);
  } catch (const std::exception& e) {
    // A scrape must still get the proxy's own counters; the failure shows up as an I/O error.
    metrics.count_io_error(IoOperation::library_load);
    spdlog::warn("/metrics: cannot read drift totals: {}", e.what());
    return {};
  }
}

std::string Engine::Impl::drift_prometheus_shared() {
  // A scrape neither connects each time (one kept connection) nor waits on a store the watcher
  // knows is down: the last totals read are served instead, gostly_drift_totals_stale saying so.
  bool stale = true;
  if (store_health.connected()) {
    try {
      if (!metrics_db) metrics_db = std::make_unique<store::LibraryDb>(data.library());
      drift_last = drift::api::prometheus(*metrics_db);
      stale = false;
    } catch (const std::exception& e) {
      metrics_db.reset();
      metrics.count_io_error(IoOperation::library_load);
      spdlog::warn("/metrics: cannot read drift totals: {}", e.what());
    }
  } else {
    metrics_db.reset();
  }
  return drift_last + "# HELP gostly_drift_totals_stale 1 while the store is unreachable: the drift totals above are the last read (none before the first).\n"
                      "# TYPE gostly_drift_totals_stale gauge\n"
                      "gostly_drift_totals_stale " + std::string(stale ? "1" : "0") + "\n";
}

} // namespace gostly::serve
