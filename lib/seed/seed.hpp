#pragma once
// Cold-start importers: HAR 1.2, Postman collections v2.0/v2.1 and OpenAPI 2.0/3.0/3.1 (JSON or
// YAML) become the same interaction records gostly-record writes, so a seeded service replays
// through the same match cascade. The importers never print: warnings go to a callback and the
// counts come back in a SeedReport, so gostly-seed and gostly-serve's `POST /v1/seed/<format>`
// route share them.
//
// Output is deterministic: the same input and options always yield the same records (ids,
// session id, order, synthesised bodies), so re-seeding is idempotent downstream.
#include "record/interaction.hpp"

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gostly::seed {

enum class Format { har, postman, openapi };

/// `har`, `postman` or `openapi`; throws gostly::UsageError for anything else.
Format parse_format(std::string_view name);
std::string_view to_string(Format format) noexcept;

/// What to do with a bad entry (a HAR entry, a Postman item, an OpenAPI operation).
enum class OnBadEntry { skip, fail };

struct SeedOptions {
  /// Service id for every record; unset = `default`, except HAR, where each host maps to a
  /// service id derived from it (`api.example.com:8443` -> `api.example.com-8443`).
  std::optional<std::string> service;
  /// Session id for every record; unset = `seed-<format>-<12 hex of SHA-256>` of the input (of its
  /// first MiB for HAR, which is streamed).
  std::optional<std::string> session;
  /// HAR only: keep entries whose host (with or without port, case-insensitive) is one of these.
  std::vector<std::string> hosts;
  /// Postman only: `{{name}}` values; these win over the collection's own variables.
  std::vector<std::pair<std::string, std::string>> vars;
  /// Postman only: a request with no saved example response becomes an empty 200 marked
  /// `"seed":{"placeholder":true}` instead of being reported and left out.
  bool placeholder = false;
  /// OpenAPI only: scheme, host and base path to use instead of the spec's servers/host.
  std::string base_url;
  OnBadEntry on_bad_entry = OnBadEntry::skip;
  /// Called once per warning (skipped entry, unresolved variable, ...); text has no prefix.
  std::function<void(const std::string&)> on_warning;
};

struct SeedReport {
  Format format = Format::har;
  std::string session_id;
  std::uint64_t entries = 0;        // entries/requests/operations seen in the input
  std::uint64_t written = 0;        // records handed to the sink
  std::uint64_t skipped = 0;        // bad entries left out (only with OnBadEntry::skip)
  std::uint64_t filtered = 0;       // HAR entries left out by `hosts`
  std::uint64_t no_response = 0;    // HAR entries the browser never got an answer for (status 0)
  std::uint64_t websockets = 0;     // HAR WebSocket entries (101), never replayed: left out
  std::uint64_t missing_examples = 0; // Postman requests without a saved response (not invented)
  std::vector<std::string> services; // service ids written, in first-seen order
  std::vector<std::string> warnings; // the first 100 warnings, for API callers
};

using Sink = std::function<void(record::Interaction&&)>;

/// Reads one document of `format` from `in` (named `source_name` in messages, e.g. `<stdin>`),
/// calling `sink` once per interaction, credential floor (and REDACT_HEADERS) already stripped.
/// HAR is streamed: entries reach `sink` as they are parsed and memory stays flat, so a fatal
/// error can come after some records were delivered. Postman and OpenAPI are validated whole
/// before the first record reaches `sink`.
/// Throws gostly::InputError (`source`, line or 0, JSON pointer, reason) for input that cannot
/// be read and, with OnBadEntry::fail, for the first bad entry.
SeedReport import(Format format, std::istream& in, const std::string& source_name, const SeedOptions& options,
                  const Sink& sink);

/// The gostly-seed tool: read `input` ("-" = stdin), write JSONL to `output` ("-" = stdout).
/// Output appears only when the whole import succeeded: a file is written atomically, and stdout
/// gets nothing from a failed run (streamed HAR output is held back in a Spool until the end).
struct Options {
  Format format = Format::har;
  std::string input = "-";
  std::string output = "-";
  SeedOptions seed;
  bool json_report = false; // print the SeedReport as one JSON line on stderr at the end
};

/// Runs the tool; returns the exit status (0), throws gostly::Error subclasses on failure.
int run(Options& options);

/// Splits a `--var NAME=VALUE` assignment; throws gostly::UsageError without a '=' or a name.
std::pair<std::string, std::string> parse_var(const std::string& assignment);

/// The SeedReport as a JSON object (for --json and the control API).
nlohmann::json report_to_json(const SeedReport& report);

} // namespace gostly::seed
