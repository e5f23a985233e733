#include "drift/api.hpp"

#include "drift/score.hpp"
#include "drift/sparkline.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

#include <charconv>

namespace gostly::drift::api {
namespace {

std::string string_field(const nlohmann::json& body, const char* name, const std::string& fallback, bool required) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) throw UsageError(std::string(name) + ": missing");
    return fallback;
  }
  if (!it->is_string()) throw UsageError(std::string(name) + ": expected string");
  return it->get<std::string>();
}

std::optional<std::string> optional_string(const nlohmann::json& body, const char* name) {
  if (!body.is_object()) return std::nullopt;
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw UsageError(std::string(name) + ": expected string");
  return it->get<std::string>();
}

} // namespace

nlohmann::json check(store::LibraryDb& db, const nlohmann::json& body, const DriftSettings& settings) {
  if (!body.is_object()) throw UsageError("body: expected a JSON object");
  CheckRequest request{string_field(body, "service_id", "default", false),
                       string_field(body, "baseline_session_id", "", true),
                       string_field(body, "current_session_id", "", true)};
  EventStore store(db);
  auto result = run_check(store, request, settings, util::now_iso8601());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : result.events) list.push_back(to_json(e));
  return {{"events", list}, {"count", list.size()}, {"new", {{"major", result.new_major}, {"minor", result.new_minor}}}};
}

nlohmann::json events(store::LibraryDb& db, const std::optional<std::string>& service_id, bool open_only) {
  EventStore store(db);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : store.list(service_id, open_only)) list.push_back(to_json(e));
  return {{"events", list}, {"count", list.size()}};
}

nlohmann::json event(store::LibraryDb& db, std::int64_t id) {
  EventStore store(db);
  auto found = store.get(id);
  if (!found) throw NotFoundError("no drift event with id " + std::to_string(id));
  auto out = to_json(*found);
  out["acknowledgements"] = nlohmann::json::array();
  for (const auto& a : store.acknowledgements(id)) out["acknowledgements"].push_back(to_json(a));
  return out;
}

nlohmann::json acknowledge(store::LibraryDb& db, std::int64_t id, const nlohmann::json& body) {
  EventStore store(db);
  store.acknowledge(id, optional_string(body, "user_id"), optional_string(body, "reason_text"), util::now_iso8601());
  return event(db, id);
}

nlohmann::json freshness_score(store::LibraryDb& db, const std::string& service_id) {
  util::require_safe_id(service_id, "service id");
  DriftSettings settings;
  try {
    settings = DriftSettings::from_environment();
  } catch (const UsageError& e) { // the server's environment, not the caller's request: a 500
    throw Error(std::string("server environment: ") + e.what());
  }
  EventStore store(db);
  auto out = to_json(compute_score(store, service_id, std::chrono::system_clock::now(), settings));
  out.erase("type");
  out.erase("v");
  return out;
}

nlohmann::json sparkline(store::LibraryDb& db, const std::string& service_id) {
  util::require_safe_id(service_id, "service id");
  EventStore store(db);
  auto out = sparkline_json(service_id, recent_days(store, service_id, std::chrono::system_clock::now()));
  out.erase("type");
  out.erase("v");
  return out;
}

nlohmann::json metrics(store::LibraryDb& db) {
  EventStore store(db);
  return {{"counters",
           {{"gostly_drift_events_total{severity=\"major\"}", store.total(Severity::major)},
            {"gostly_drift_events_total{severity=\"minor\"}", store.total(Severity::minor)}}}};
}

std::string prometheus(store::LibraryDb& db) {
  EventStore store(db);
  return "# HELP gostly_drift_events_total Drift events detected (new events only; re-checks do not count).\n"
         "# TYPE gostly_drift_events_total counter\n"
         "gostly_drift_events_total{severity=\"major\"} " + std::to_string(store.total(Severity::major)) + "\n"
         "gostly_drift_events_total{severity=\"minor\"} " + std::to_string(store.total(Severity::minor)) + "\n";
}

std::int64_t parse_event_id(const std::string& text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0)
    throw UsageError("event id: expected a positive integer, got '" + text + "'");
  return id;
}

} // namespace gostly::drift::api
