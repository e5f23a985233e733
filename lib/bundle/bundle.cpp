// Export streams each service's mock rows through a temporary file (a tar header needs the entry
// size before its data, and a service library can be larger than we want in RAM), then writes
// manifest.json first and the service files after it. The archive goes through util::AtomicFile,
// so an interrupted export never leaves a truncated bundle under the final name.
//
// Import trusts nothing: every entry name is checked before anything is read from it, the first
// regular entry must be a manifest of a format and version we know, every record is decoded and
// validated like gostly-transition input, and the per-service counts must match the manifest.
// All of it happens inside one LibraryDb::Import, which rolls back on any exception.
#include "bundle/bundle.hpp"

#include "record/codec.hpp"
#include "record/jsonl.hpp"
#include "redact/redact.hpp"
#include "store/mode.hpp"
#include "store/sql.hpp"
#include "util/error.hpp"
#include "util/encoding.hpp"
#include "util/files.hpp"
#include "util/limits.hpp"
#include "util/time.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <istream>
#include <optional>
#include <streambuf>
#include <map>
#include <memory>
#include <set>

namespace gostly::bundle {

namespace fs = std::filesystem;
using nlohmann::json;

bool is_safe_entry_name(std::string_view name) noexcept {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos)
    return false;
  while (!name.empty()) {
    auto slash = name.find('/');
    auto part = name.substr(0, slash);
    if (part == "..") return false;
    name = slash == std::string_view::npos ? std::string_view{} : name.substr(slash + 1);
  }
  return true;
}

namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kMaxManifestBytes = 1 << 20;

struct ArchiveWriter {
  util::AtomicFile file;
  std::exception_ptr error;
  explicit ArchiveWriter(const fs::path& path) : file(path) {}
};

la_ssize_t write_to_atomic_file(archive*, void* client, const void* buffer, size_t length) {
  auto* writer = static_cast<ArchiveWriter*>(client);
  try {
    writer->file.write(std::string_view(static_cast<const char*>(buffer), length));
    return static_cast<la_ssize_t>(length);
  } catch (...) { // never let an exception cross libarchive's C frames
    writer->error = std::current_exception();
    return -1;
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using TempFile = std::unique_ptr<std::FILE, FileCloser>;

void scrub(record::Interaction& interaction, ScrubCounts& counts) {
  for (auto* body : {&interaction.request.body, &interaction.response.body})
    if (!body->empty() && util::is_valid_utf8(*body)) *body = scrub_text(*body, counts);
}

class Writer {
public:
  Writer(ArchiveWriter& sink, const fs::path& name) : sink_(sink), name_(name.string()), a_(archive_write_new()) {
    if (!a_) throw Error(name_ + ": cannot create archive writer");
    check(archive_write_add_filter_gzip(a_));
    check(archive_write_set_format_pax_restricted(a_));
    check(archive_write_set_bytes_in_last_block(a_, 1));
    check(archive_write_open2(a_, &sink_, nullptr, &write_to_atomic_file, nullptr, nullptr));
  }
  ~Writer() { archive_write_free(a_); }

  void add(const std::string& entry_name, std::FILE* data, std::int64_t size) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(), &archive_entry_free);
    archive_entry_set_pathname(entry.get(), entry_name.c_str());
    archive_entry_set_size(entry.get(), size);
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_mtime(entry.get(), std::time(nullptr), 0);
    check(archive_write_header(a_, entry.get()));
    std::rewind(data);
    char buffer[kChunk];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, data)) > 0)
      if (archive_write_data(a_, buffer, n) < 0) check(ARCHIVE_FATAL);
  }

  void close() { check(archive_write_close(a_)); }

private:
  void check(int rc) {
    if (sink_.error) std::rethrow_exception(sink_.error);
    if (rc < ARCHIVE_WARN) throw Error(name_ + ": " + (archive_error_string(a_) ? archive_error_string(a_) : "archive error"));
  }

  ArchiveWriter& sink_;
  std::string name_;
  archive* a_;
};

TempFile temp_file() {
  TempFile f(std::tmpfile());
  if (!f) throw Error(std::string("cannot create a temporary file: ") + std::strerror(errno));
  return f;
}

void write_all(std::FILE* f, std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size())
    throw Error(std::string("cannot write a temporary file: ") + std::strerror(errno));
}

} // namespace

ExportResult export_bundle(store::LibraryDb& db, const fs::path& file, Overwrite overwrite) {
  const auto redactor = redact::Redactor::from_environment();
  std::error_code ec;
  if (overwrite == Overwrite::no && fs::exists(file, ec))
    throw UsageError(file.string() + ": already exists (use --force to overwrite)");

  ExportResult result;
  store::sql::Transaction snapshot(db.handle(), store::sql::Lock::deferred);
  json services = json::array();
  std::vector<std::pair<std::string, TempFile>> parts;
  for (const auto& service : db.services()) {
    if (!util::is_safe_id(service.id)) throw Error("library.db: unsafe service id '" + service.id + "'");
    TempFile part = temp_file();
    std::uint64_t count = 0;
    auto service_redactor = redactor;
    for (const auto& name : service.redact_headers) service_redactor.add(name);
    db.for_each_mock(service.id, [&](const record::Interaction& stored) {
      record::Interaction interaction = stored;
      service_redactor.apply(interaction); // a library written before a redaction rule existed
      scrub(interaction, result.scrubbed);
      write_all(part.get(), record::encode_line(interaction) + "\n");
      ++count;
    });
    // A service with settings and no mocks yet still travels: its mode and redactions matter.
    if (count == 0 && !service.mode && service.redact_headers.empty()) continue;
    std::string entry = "services/" + service.id + ".jsonl";
    json row = {{"id", service.id}, {"file", entry}, {"mocks", count}};
    if (service.mode) row["mode"] = *service.mode;
    if (!service.redact_headers.empty()) row["redact_headers"] = service.redact_headers;
    services.push_back(std::move(row));
    result.services.emplace_back(service.id, count);
    result.interactions += count;
    parts.emplace_back(entry, std::move(part));
  }
  snapshot.commit();

  json manifest = {{"format", kBundleFormat},     {"bundle_version", kBundleVersion},
                   {"record_version", record::kRecordVersion}, {"gostly_version", GOSTLY_VERSION},
                   {"created_at", util::now_iso8601()},        {"pii_scrubbed", true},
                   {"services", services}};
  TempFile manifest_file = temp_file();
  write_all(manifest_file.get(), manifest.dump(2) + "\n");

  if (file.has_parent_path()) fs::create_directories(file.parent_path());
  ArchiveWriter sink(file);
  {
    Writer writer(sink, file);
    writer.add("manifest.json", manifest_file.get(), std::ftell(manifest_file.get()));
    for (auto& [entry, part] : parts) {
      std::fseek(part.get(), 0, SEEK_END);
      writer.add(entry, part.get(), std::ftell(part.get()));
    }
    writer.close();
  }
  sink.file.commit();
  return result;
}

namespace {

class Reader {
public:
  explicit Reader(const fs::path& file) : name_(file.string()), a_(archive_read_new()) {
    if (!a_) throw Error(name_ + ": cannot create archive reader");
    archive_read_support_filter_all(a_);
    archive_read_support_format_tar(a_);
    if (archive_read_open_filename(a_, file.c_str(), kChunk) != ARCHIVE_OK) {
      // A throwing constructor runs no destructor: free the handle here or every refused
      // bundle leaks it (found by the bundle fuzzer).
      const char* detail = archive_error_string(a_);
      std::string why = std::string("cannot open") + (detail ? std::string(" (") + detail + ")" : std::string());
      archive_read_free(a_);
      a_ = nullptr;
      throw InputError(name_, 0, "archive", why);
    }
  }
  ~Reader() { archive_read_free(a_); }

  /// Next entry, or nullptr at the end.
  archive_entry* next() {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a_, &entry);
    if (rc == ARCHIVE_EOF) return nullptr;
    if (rc < ARCHIVE_WARN) fail("archive", "not a readable .tar.gz bundle");
    return entry;
  }

  /// The current entry's data as a stream (JsonlReader reads it a block at a time).
  std::istream& data(const std::string& entry) {
    entry_buf_.emplace(*this, entry);
    entry_stream_.emplace(&*entry_buf_);
    entry_stream_->exceptions(std::ios::badbit); // so underflow()'s InputError reaches the caller
    return *entry_stream_;
  }

  std::string read_all(const std::string& entry, std::size_t limit) {
    std::string data;
    char buffer[kChunk];
    for (;;) {
      la_ssize_t n = archive_read_data(a_, buffer, sizeof buffer);
      if (n < 0) fail(entry, "corrupt data");
      if (n == 0) return data;
      data.append(buffer, static_cast<std::size_t>(n));
      if (data.size() > limit) throw InputError(name_ + ":" + entry, 0, "", "larger than " + std::to_string(limit) + " bytes");
    }
  }

  [[noreturn]] void fail(const std::string& where, const std::string& what) {
    const char* detail = archive_error_string(a_);
    throw InputError(name_, 0, where, what + (detail ? std::string(" (") + detail + ")" : std::string()));
  }

  const std::string& name() const { return name_; }

private:
  // archive_read_data() as a streambuf; a libarchive error is an InputError thrown from
  // underflow(), which istream::read passes on (badbit, exceptions on badbit).
  class EntryBuf : public std::streambuf {
  public:
    EntryBuf(Reader& reader, std::string entry) : reader_(reader), entry_(std::move(entry)) {}

  protected:
    int_type underflow() override {
      la_ssize_t n = archive_read_data(reader_.a_, buffer_, sizeof buffer_);
      if (n < 0) reader_.fail(entry_, "corrupt data");
      if (n == 0) return traits_type::eof();
      setg(buffer_, buffer_, buffer_ + n);
      return traits_type::to_int_type(buffer_[0]);
    }

  private:
    Reader& reader_;
    std::string entry_;
    char buffer_[kChunk];
  };

  std::string name_;
  archive* a_;
  std::optional<EntryBuf> entry_buf_;
  std::optional<std::istream> entry_stream_;
};

struct ManifestService {
  std::uint64_t mocks = 0;
  std::uint64_t seen = 0;
  bool read = false;
  std::optional<std::string> mode;                         // the service's mode override
  std::optional<std::vector<std::string>> redact_headers;  // its extra redacted headers
};

std::map<std::string, ManifestService> parse_manifest(const std::string& source, const std::string& text) {
  json manifest;
  try {
    manifest = util::parse_json(text);
  } catch (const util::LimitError& e) {
    throw InputError(source, 0, "", std::string(e.what()) + " at byte " + std::to_string(e.byte()));
  } catch (const json::exception&) {
    throw InputError(source, 0, "", "not a JSON object");
  }
  if (!manifest.is_object()) throw InputError(source, 0, "", "not a JSON object");
  if (manifest.value("format", "") != kBundleFormat)
    throw InputError(source, 0, "format", "not a gostly bundle (expected \"" + std::string(kBundleFormat) + "\")");
  auto version = manifest.find("bundle_version");
  if (version == manifest.end() || !version->is_number_unsigned() || version->get<std::uint64_t>() == 0)
    throw InputError(source, 0, "bundle_version", "missing or not a positive integer");
  if (version->get<std::uint64_t>() > static_cast<std::uint64_t>(kBundleVersion))
    throw InputError(source, 0, "bundle_version",
                     version->dump() + " is newer than this gostly reads (" + std::to_string(kBundleVersion) + ")");
  auto services = manifest.find("services");
  if (services == manifest.end() || !services->is_array()) throw InputError(source, 0, "services", "missing or not an array");
  std::map<std::string, ManifestService> out;
  for (std::size_t i = 0; i < services->size(); ++i) {
    const json& row = (*services)[i];
    std::string field = "services[" + std::to_string(i) + "]";
    if (!row.is_object() || !row.contains("id") || !row["id"].is_string() || !row.contains("mocks") ||
        !row["mocks"].is_number_unsigned())
      throw InputError(source, 0, field, "expected {\"id\": string, \"mocks\": count}");
    std::string id = row["id"].get<std::string>();
    if (!util::is_safe_id(id)) throw InputError(source, 0, field + ".id", "not a safe service id: '" + id + "'");
    auto& service = out[id];
    service.mocks = row["mocks"].get<std::uint64_t>();
    if (auto mode = row.find("mode"); mode != row.end() && !mode->is_null()) {
      auto parsed = mode->is_string() ? store::parse_settable_mode(mode->get<std::string>()) : std::nullopt;
      if (!parsed) throw InputError(source, 0, field + ".mode", "expected " + std::string(store::kSettableModes));
      service.mode = std::string(store::to_string(*parsed));
    }
    if (auto names = row.find("redact_headers"); names != row.end() && !names->is_null()) {
      if (!names->is_array()) throw InputError(source, 0, field + ".redact_headers", "expected an array of header names");
      service.redact_headers.emplace();
      for (const auto& name : *names) {
        if (!name.is_string() || !record::is_token(name.get<std::string>()))
          throw InputError(source, 0, field + ".redact_headers", "not a header name: " + name.dump().substr(0, 60));
        service.redact_headers->push_back(name.get<std::string>());
      }
    }
  }
  return out;
}

} // namespace

ImportResult import_bundle(store::LibraryDb& db, const fs::path& file, const redact::Redactor& redactor) {
  Reader reader(file);
  const std::string& name = reader.name();
  std::map<std::string, ManifestService> manifest;
  bool have_manifest = false;
  ImportResult result;
  store::LibraryDb::Import import(db);

  while (archive_entry* entry = reader.next()) {
    const char* raw_name = archive_entry_pathname(entry);
    std::string entry_name = raw_name ? raw_name : "";
    if (!is_safe_entry_name(entry_name))
      throw InputError(name, 0, "entry", "refusing an entry whose name escapes the bundle: '" + entry_name + "'");
    if (archive_entry_filetype(entry) == AE_IFDIR) continue;
    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry))
      throw InputError(name, 0, "entry", "refusing '" + entry_name + "': not a regular file");
    if (entry_name.rfind("./", 0) == 0) entry_name.erase(0, 2);

    if (!have_manifest) {
      if (entry_name != "manifest.json")
        throw InputError(name, 0, "entry", "not a gostly bundle: first entry is '" + entry_name + "', expected manifest.json");
      manifest = parse_manifest(name + ":manifest.json", reader.read_all(entry_name, kMaxManifestBytes));
      have_manifest = true;
      continue;
    }

    constexpr std::string_view prefix = "services/", suffix = ".jsonl";
    std::string service;
    if (entry_name.size() > prefix.size() + suffix.size() && entry_name.rfind(prefix, 0) == 0 &&
        entry_name.compare(entry_name.size() - suffix.size(), suffix.size(), suffix) == 0)
      service = entry_name.substr(prefix.size(), entry_name.size() - prefix.size() - suffix.size());
    auto listed = manifest.find(service);
    if (service.empty() || listed == manifest.end())
      throw InputError(name, 0, "entry", "'" + entry_name + "' is not listed in manifest.json");
    if (listed->second.read) throw InputError(name, 0, "entry", "'" + entry_name + "' appears twice");
    listed->second.read = true;

    // The same reader as gostly-transition's JSONL (line and depth limits, from_json's checks),
    // then the same redaction, so a stranger's bundle is held to what any other input is.
    record::JsonlReader records(reader.data(entry_name), name + ":" + entry_name, record::TornLastLine::error);
    auto service_redactor = redactor; // plus the service's own rules, as gostly-serve applies them
    if (listed->second.redact_headers)
      for (const auto& header : *listed->second.redact_headers) service_redactor.add(header);
    record::Interaction interaction;
    while (records.next(interaction)) {
      try {
        if (interaction.service_id != service)
          throw record::FieldError{"service_id", "'" + interaction.service_id + "' in the file of service '" + service + "'"};
        service_redactor.apply(interaction);
        import.add(interaction);
      } catch (const record::FieldError& e) {
        throw InputError(records.source(), records.line(), e.field, e.reason);
      }
      ++result.records_read;
      ++listed->second.seen;
    }
  }
  if (!have_manifest) throw InputError(name, 0, "", "not a gostly bundle: empty archive");
  for (const auto& [service, row] : manifest) {
    if (!row.read) throw InputError(name, 0, "manifest.json", "service '" + service + "' listed but services/" + service + ".jsonl is missing");
    if (row.seen != row.mocks)
      throw InputError(name, 0, "services/" + service + ".jsonl",
                       std::to_string(row.seen) + " records, manifest.json says " + std::to_string(row.mocks));
    // The per-service settings, in the same transaction as the mocks. A setting the bundle
    // does not carry is left as it is here.
    if (row.mode) db.set_service_mode(service, row.mode);
    if (row.redact_headers) db.set_service_redact_headers(service, *row.redact_headers);
  }
  auto stats = import.commit();
  result.added = stats.added;
  result.duplicates = stats.duplicates;
  result.services = stats.services_touched;
  return result;
}

} // namespace gostly::bundle
