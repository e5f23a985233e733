#pragma once
// Pieces shared by the three importers (internal to lib/seed): URL splitting, host -> service
// ids, JSON pointers, the per-import context that mints deterministic ids and applies the
// skip-or-fail policy, and loading a whole JSON or YAML document with positions in errors.
#include "record/interaction.hpp"
#include "redact/redact.hpp"
#include "seed/seed.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace gostly::seed {

/// An absolute or origin-form URL split the way the record wants it.
struct SplitUrl {
  std::string scheme; // lower case, empty for origin-form
  std::string host;   // authority without userinfo (host[:port]), as written
  std::string uri;    // path plus query, never empty ("/"), fragment dropped
};

/// Splits `url`; returns false when it has neither a scheme://authority nor a leading '/'.
bool split_url(std::string_view url, SplitUrl& out);

/// A safe service id for `host`: lower case, ':' -> '-', anything outside [a-z0-9.-_] -> '-',
/// trailing dots dropped; `default` when nothing is left.
std::string service_for_host(std::string_view host);

/// `host` without its `:port` (IPv6 brackets kept).
std::string_view host_without_port(std::string_view host) noexcept;

/// RFC 6901 escaping of one reference token (`~` -> `~0`, `/` -> `~1`).
std::string pointer_token(std::string_view token);

/// HAR/`http/2.0`/`HTTP/1.1`/`h3` -> the record's `2`, `1.1`, `3`.
std::string normalize_http_version(std::string_view version);

using record::reason_phrase;

/// `application/x-www-form-urlencoded` encoding of `text` (spaces as '+').
std::string form_encode(std::string_view text);

/// A bad entry: `pointer` is the JSON pointer of the field at fault.
struct EntryError {
  std::string pointer;
  std::string reason;
};

/// A limit hit inside an entry (schema synthesis work, variable expansion, nesting): fatal
/// whatever the skip policy, so a hostile file never half-imports. Thrown through the importers'
/// EntryError handlers and turned into an InputError by import_*().
struct LimitExceeded {
  std::string pointer;
  std::string reason;
};

/// `pointer` cut to about `max` characters at a token boundary ("/..." marks the cut), so a
/// message about a 256-level-deep value stays readable.
std::string short_pointer(const std::string& pointer, std::size_t max = 160);

/// One import run: counts, warnings, ids and the skip-or-fail decision.
class ImportContext {
public:
  ImportContext(Format format, std::string source, const SeedOptions& options, SeedReport& report);

  /// Sets the session id from `digest_input` unless the options fix one.
  void set_session_from(std::string_view digest_input);
  const std::string& session_id() const noexcept { return report_.session_id; }

  /// Fills id, session, source, service (unless already set by the importer), strips
  /// credentials, counts the service and hands the record to `sink`. A record that cannot go on
  /// the wire as it is (CR/LF in a header or the reason, a header name that is not a token) is
  /// an InputError naming `pointer` (the entry's JSON pointer) and the field, whatever the skip
  /// policy: such a file is hostile, not merely broken.
  void emit(record::Interaction&& interaction, std::uint64_t entry_index, const std::string& pointer, const Sink& sink);

  /// A record converted from a whole document, waiting to be emitted.
  struct Pending {
    std::uint64_t index;
    std::string pointer;
    record::Interaction interaction;
  };
  /// Emits every pending record, after checking all of them first: a refused record stops the
  /// import before the first one reaches `sink`.
  void emit_all(std::vector<Pending>& pending, const Sink& sink);

  /// Reports a bad entry: throws InputError under OnBadEntry::fail, else warns and counts.
  void bad_entry(const EntryError& error);
  void warn(const std::string& text);

  const std::string& source() const noexcept { return source_; }
  const SeedOptions& options() const noexcept { return options_; }
  SeedReport& report() noexcept { return report_; }

private:
  void prepare(record::Interaction& interaction, std::uint64_t entry_index, const std::string& pointer);
  void deliver(record::Interaction&& interaction, const Sink& sink);

  Format format_;
  std::string source_;
  const SeedOptions& options_;
  SeedReport& report_;
  redact::Redactor redactor_;
};

/// Reads all of `in` into memory (Postman and OpenAPI documents are read whole: variables and
/// `$ref` need random access). Throws gostly::Error on a read failure.
std::string read_all(std::istream& in, const std::string& source);

/// GOSTLY_MAX_YAML_EXPANSION: what YAML aliases may add to one document, in bytes, counting 64
/// per copied node plus the text of its scalars and keys (default 64 MiB). Nodes written out in
/// the text do not count: they cost their own bytes of input already.
std::size_t yaml_expansion_limit();

/// Parses `text` as JSON, or as YAML when it does not start with '{' or '['. Errors become
/// InputError with the 1-based line (and column in the reason). Key order is kept. Both are
/// bounded: nesting by util::max_depth() (GOSTLY_MAX_DEPTH), YAML aliases must not form a cycle
/// and may add at most GOSTLY_MAX_YAML_EXPANSION bytes (see yaml_expansion_limit()).
nlohmann::ordered_json parse_document(const std::string& text, const std::string& source);

/// A boolean flag of a spec or collection (`required`, `readOnly`, `disabled`): true only for
/// `true` or the string "true"; anything else, a missing key or a non-object `node` is `fallback`
/// unless it is `false`/"false". Strangers write `"required": "yes"`; that must not abort.
bool flag(const nlohmann::ordered_json& node, const char* key, bool fallback = false) noexcept;

/// The string at `key` of `node`; "" when `node` is not an object or the value is missing or not a
/// string (for fields whose absence is fine, such as a schema's `format`).
std::string string_or_empty(const nlohmann::ordered_json& node, const char* key);

/// The string value of `node` for a field that may be missing; throws EntryError otherwise.
std::string optional_string(const nlohmann::ordered_json& node, const char* key, const std::string& pointer);

/// The importers behind seed::import(); each reports through `context` and emits through it.
void import_har(std::istream& in, ImportContext& context, const Sink& sink);
void import_postman(const std::string& text, ImportContext& context, const Sink& sink);
void import_openapi(const std::string& text, ImportContext& context, const Sink& sink);

} // namespace gostly::seed
