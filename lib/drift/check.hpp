#pragma once
// The drift check: fingerprint two sessions of a service (from library.db, or from two JSONL
// files with no store), diff them and, for the store, record the events idempotently.
#include "drift/events.hpp"
#include "drift/fingerprint.hpp"
#include "drift/settings.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace gostly::drift {

/// A session id that names no recordings of the service (exit 2; HTTP 422 from the API).
class UnknownSessionError : public NotFoundError {
public:
  using NotFoundError::NotFoundError;
};

struct CheckRequest {
  std::string service_id;
  std::string baseline_session_id;
  std::string current_session_id;
};

struct CheckResult {
  std::vector<DriftEvent> events; // every drifted route, new or already stored
  std::uint64_t new_major = 0;    // how many of them were new, per severity: the increments of
  std::uint64_t new_minor = 0;    // gostly_drift_events_total{severity}
};

/// Fingerprints one session of `service_id` (LEARN rows only when `learn_only`), streaming.
SessionFingerprint fingerprint_session(store::LibraryDb& db, const std::string& service_id,
                                       const std::string& session_id, bool learn_only);

/// Validates the ids (UsageError for unsafe ones, UnknownSessionError for a session with no
/// usable recordings), diffs the sessions and records the events at `now`.
CheckResult run_check(EventStore& events, const CheckRequest& request, const DriftSettings& settings,
                      const std::string& now);

struct FileDiffRequest {
  std::string baseline_path; // "-" = stdin (for one of the two)
  std::string current_path;
  std::string service_id;    // empty: every service in the files; events name the first one
};

/// The same comparison straight from two JSONL files; the events have id 0 and name each file's
/// first session id (or the file name when records carry none).
std::vector<DriftEvent> diff_files(const FileDiffRequest& request, const DriftSettings& settings, const std::string& now);

/// Logs once per route that some bodies were not JSON objects (no field signals for those).
void log_non_object_routes(const SessionFingerprint& baseline, const SessionFingerprint& current);

} // namespace gostly::drift
