#include "drift/check.hpp"

#include "drift/diff.hpp"
#include "drift/route.hpp"
#include "record/jsonl.hpp"
#include "util/files.hpp"

#include <set>
#include <spdlog/spdlog.h>

namespace gostly::drift {
namespace {

void require_usable_session(store::LibraryDb& db, const std::string& service_id, const std::string& session_id,
                            bool learn_only, const char* role) {
  for (const auto& row : db.sessions(service_id)) {
    if (row.session_id != session_id) continue;
    if (learn_only && row.learn_interactions == 0)
      throw UnknownSessionError(std::string(role) + " session '" + session_id + "' of service '" + service_id +
                                "' has no LEARN recordings (set GOSTLY_DRIFT_LEARN_MODE_ONLY=false to include "
                                "curated rows)");
    return;
  }
  throw UnknownSessionError(std::string("unknown ") + role + " session '" + session_id + "' for service '" +
                            service_id + "' (list them with: gostly-drift sessions --service " + service_id + ")");
}

struct FileSide {
  SessionFingerprint fingerprint;
  std::string session_id;
  std::string service_id;
};

FileSide read_file_side(const std::string& path, const std::string& service_filter, bool learn_only) {
  FileSide side;
  auto input = record::open_input(path);
  record::JsonlReader reader(*input.stream, input.name);
  record::Interaction interaction;
  while (reader.next(interaction)) {
    if (!service_filter.empty() && interaction.service_id != service_filter) continue;
    if (learn_only && interaction.source != "learn") continue;
    if (side.service_id.empty()) side.service_id = interaction.service_id;
    if (side.session_id.empty()) side.session_id = interaction.session_id;
    side.fingerprint.add(interaction);
  }
  if (side.fingerprint.interactions() == 0)
    throw InputError(input.name, 0, "", std::string("no ") + (learn_only ? "LEARN " : "") + "interactions" +
                                            (service_filter.empty() ? "" : " of service '" + service_filter + "'"));
  if (side.session_id.empty()) side.session_id = input.name;
  return side;
}

std::vector<DriftEvent> to_events(const std::vector<RouteDrift>& drifts, const std::string& service_id,
                                  const std::string& baseline, const std::string& current, const std::string& now) {
  std::vector<DriftEvent> out;
  out.reserve(drifts.size());
  for (const auto& d : drifts) out.push_back(make_event(d, service_id, baseline, current, now));
  return out;
}

} // namespace

void log_non_object_routes(const SessionFingerprint& baseline, const SessionFingerprint& current) {
  std::set<RouteKey> logged;
  for (const auto* side : {&baseline, &current}) {
    for (const auto& [key, route] : side->routes()) {
      auto other = route.body_kinds[static_cast<std::size_t>(BodyKind::array)] +
                   route.body_kinds[static_cast<std::size_t>(BodyKind::scalar)] +
                   route.body_kinds[static_cast<std::size_t>(BodyKind::not_json)];
      if (route.fields_dropped > 0 || route.depth_cut > 0)
        spdlog::warn("{} {}: fingerprint cut by a limit: {} field paths beyond GOSTLY_DRIFT_MAX_FIELDS={}, {} "
                     "values nested deeper than GOSTLY_DRIFT_MAX_DEPTH={} not followed; changes there are not seen",
                     key.method, key.route, route.fields_dropped, RouteFingerprint::max_fields(), route.depth_cut,
                     RouteFingerprint::max_depth());
      if (route.undecodable > 0)
        spdlog::warn("{} {}: {} response bodies could not be decoded ({}); they give no body signal", key.method,
                     key.route, route.undecodable, route.undecodable_reason);
      if (other > 0 && logged.insert(key).second)
        spdlog::warn("{} {}: {} response bodies are not JSON objects; they give no field-level drift signal",
                     key.method, key.route, other);
    }
    if (side->routes_dropped() > 0)
      spdlog::warn("more than {} routes; {} interactions on further routes were not compared",
                   SessionFingerprint::kMaxRoutes, side->routes_dropped());
  }
}

SessionFingerprint fingerprint_session(store::LibraryDb& db, const std::string& service_id,
                                       const std::string& session_id, bool learn_only) {
  SessionFingerprint fingerprint;
  db.for_each_recording(service_id, session_id, learn_only,
                        [&](const record::Interaction& interaction) { fingerprint.add(interaction); });
  return fingerprint;
}

CheckResult run_check(EventStore& events, const CheckRequest& request, const DriftSettings& settings,
                      const std::string& now) {
  util::require_safe_id(request.service_id, "service id");
  util::require_safe_id(request.baseline_session_id, "baseline session id");
  util::require_safe_id(request.current_session_id, "current session id");
  if (request.baseline_session_id == request.current_session_id)
    throw UsageError("baseline and current are the same session '" + request.current_session_id + "'");
  store::LibraryDb& db = events.db();
  require_usable_session(db, request.service_id, request.baseline_session_id, settings.learn_only, "baseline");
  require_usable_session(db, request.service_id, request.current_session_id, settings.learn_only, "current");

  auto baseline = fingerprint_session(db, request.service_id, request.baseline_session_id, settings.learn_only);
  auto current = fingerprint_session(db, request.service_id, request.current_session_id, settings.learn_only);
  learn_route_templates(baseline, current);
  log_non_object_routes(baseline, current);
  auto drifts = diff(baseline, current, DiffOptions{settings.min_behavioral_samples});

  CheckResult result;
  auto stored = events.record(to_events(drifts, request.service_id, request.baseline_session_id,
                                        request.current_session_id, now));
  for (auto& s : stored) {
    if (s.is_new) ++(s.event.severity == Severity::major ? result.new_major : result.new_minor);
    result.events.push_back(std::move(s.event));
  }
  return result;
}

std::vector<DriftEvent> diff_files(const FileDiffRequest& request, const DriftSettings& settings, const std::string& now) {
  if (!request.service_id.empty()) util::require_safe_id(request.service_id, "service id");
  if (request.baseline_path == "-" && request.current_path == "-")
    throw UsageError("only one of the two inputs can be stdin");
  auto baseline = read_file_side(request.baseline_path, request.service_id, settings.learn_only);
  auto current = read_file_side(request.current_path, request.service_id, settings.learn_only);
  learn_route_templates(baseline.fingerprint, current.fingerprint);
  log_non_object_routes(baseline.fingerprint, current.fingerprint);
  auto drifts = diff(baseline.fingerprint, current.fingerprint, DiffOptions{settings.min_behavioral_samples});
  std::string service = request.service_id.empty() ? baseline.service_id : request.service_id;
  return to_events(drifts, service, baseline.session_id, current.session_id, now);
}

} // namespace gostly::drift
