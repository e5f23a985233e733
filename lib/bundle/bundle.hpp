#pragma once
// Library bundles: the mock library as a `.tar.gz` for CI (libarchive). Layout:
//   manifest.json             {"format":"gostly-bundle","bundle_version":1,"record_version":1,
//                              "gostly_version":"…","created_at":"…","pii_scrubbed":true,
//                              "services":[{"id":"api","file":"services/api.jsonl","mocks":12,
//                                           "mode":"MOCK","redact_headers":["x-tenant"]}]}
//                             mode and redact_headers (optional) are the service's settings
//                             (PUT /services/{id}); import stores them with the mocks
//   services/<service>.jsonl  the service's mock rows (gostly-jsonl(5)), load_library() order
// manifest.json is always the first entry, so an importer knows what it reads before any data.
#include "bundle/pii.hpp"
#include "redact/redact.hpp"
#include "store/library_db.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gostly::bundle {

inline constexpr int kBundleVersion = 1;
inline constexpr std::string_view kBundleFormat = "gostly-bundle";

enum class Overwrite { no, yes };

struct ExportResult {
  std::vector<std::pair<std::string, std::uint64_t>> services; // id, mocks written
  std::uint64_t interactions = 0;
  ScrubCounts scrubbed;
};

/// Writes every service's mock library from `db` to `file` (temp file + rename: `file` is either
/// untouched or complete). Bodies that are valid UTF-8 are PII-scrubbed (pii.hpp); binary bodies
/// are kept as they are. The redaction floor (+ REDACT_HEADERS) is applied again on the way
/// out, so a library written by an older gostly does not leak what it kept. Throws UsageError when `file` exists and `overwrite` is no.
ExportResult export_bundle(store::LibraryDb& db, const std::filesystem::path& file, Overwrite overwrite);

struct ImportResult {
  std::uint64_t records_read = 0;
  std::uint64_t added = 0;
  std::uint64_t duplicates = 0;
  std::vector<std::string> services;
};

/// Reads a bundle into `db` in one transaction, each record decoded like gostly-transition's
/// JSONL (record::JsonlReader) and passed through `redactor` before it is stored: a bundle is
/// a stranger's input like any other. A corrupt or foreign archive, an entry whose name escapes
/// (`../`, absolute, links), a bad record or counts that disagree with the manifest throw
/// InputError naming `file` (and the entry and line) and leave `db` unchanged.
ImportResult import_bundle(store::LibraryDb& db, const std::filesystem::path& file, const redact::Redactor& redactor);

/// True when an archive entry name stays inside the extraction root: relative, no `..` part.
bool is_safe_entry_name(std::string_view name) noexcept;

} // namespace gostly::bundle
