#pragma once
// The transition pipeline: interaction JSONL in (files, "-", or the data dir's traffic/), the
// redaction floor plus extras applied, everything written into library.db in ONE transaction.
// A malformed line anywhere aborts the whole run with nothing written. Callable as a library
// function (gostly-serve runs it for POST /v1/transition {"action":"run"}): it prints nothing
// and returns what it did.
#include "redact/redact.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gostly::transition {

struct TransitionOptions {
  std::filesystem::path data_dir = "data";
  /// --store / GOSTLY_STORE; empty = data_dir/library.db.
  std::string store;
  /// Files or "-"; empty = every traffic/*.jsonl of `data_dir`, in name order.
  std::vector<std::string> inputs;
  /// Overrides each record's service_id / session_id when set (validated as safe ids).
  std::optional<std::string> service;
  std::optional<std::string> session;
  /// Header names stripped on top of the floor and REDACT_HEADERS.
  std::vector<std::string> redact_headers;
  /// Validate and count, then roll back: library.db is left as it was.
  bool dry_run = false;
  /// Called with each interaction as it goes into the library (redacted, ids overridden), the
  /// input's name and the line (--verify spools them to replay after the commit).
  std::function<void(const record::Interaction&, const std::string& input, std::uint64_t line)> on_added;
};

struct TransitionResult {
  std::vector<std::string> inputs;  // names as used in messages (`<stdin>` for "-")
  std::uint64_t records_read = 0;   // interaction records
  std::uint64_t added = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t torn_lines_skipped = 0;
  std::uint64_t other_records_skipped = 0; // drift_event, score, ... on the same stream
  std::uint64_t upgrades_skipped = 0;      // 101 handshakes of relayed WebSockets: never replayed
  std::vector<std::string> services;       // touched, sorted
  std::uint64_t sessions = 0;              // distinct (service, session) pairs read
  bool dry_run = false;
};

/// Runs the pipeline described above. Throws InputError (`file:line: field: reason`) for a bad
/// record, UsageError for a bad --service/--session, gostly::Error for I/O or database failures;
/// in every case library.db is unchanged.
TransitionResult run_transition(const TransitionOptions& options);

/// The redaction every library input of this run goes through (JSONL and bundle import alike):
/// the floor, REDACT_HEADERS and `options.redact_headers`, URL userinfo.
redact::Redactor make_redactor(const TransitionOptions& options);

/// The inputs run_transition() would read for `options` (resolving the traffic/ default).
std::vector<std::string> resolve_inputs(const TransitionOptions& options);

} // namespace gostly::transition
