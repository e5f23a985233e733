#include "transition/transition.hpp"

#include "record/codec.hpp"
#include "record/jsonl.hpp"
#include "redact/redact.hpp"
#include "store/data_dir.hpp"
#include "store/library_db.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <set>
#include <spdlog/spdlog.h>

namespace gostly::transition {

namespace fs = std::filesystem;

std::vector<std::string> resolve_inputs(const TransitionOptions& options) {
  if (!options.inputs.empty()) return options.inputs;
  std::vector<std::string> files;
  store::DataDir dir(options.data_dir);
  std::error_code ec;
  if (!fs::is_directory(dir.traffic_dir(), ec)) return files;
  for (const auto& entry : fs::directory_iterator(dir.traffic_dir()))
    if (entry.is_regular_file() && entry.path().extension() == ".jsonl") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

namespace {

// A dry run must not create library.db or take its write lock for long when it does not exist
// yet; it imports into a scratch database that is removed afterwards.
struct ScratchDb {
  fs::path dir;
  ScratchDb() : dir(fs::temp_directory_path() / util::random_id("gostly-dry-run-")) { fs::create_directories(dir); }
  ~ScratchDb() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

} // namespace

redact::Redactor make_redactor(const TransitionOptions& options) {
  auto redactor = redact::Redactor::from_environment();
  for (const auto& name : options.redact_headers) redactor.add(name);
  return redactor;
}

TransitionResult run_transition(const TransitionOptions& options) {
  if (options.service) util::require_safe_id(*options.service, "--service");
  if (options.session) util::require_safe_id(*options.session, "--session");

  TransitionResult result;
  result.dry_run = options.dry_run;
  const auto redactor = make_redactor(options);

  store::DataDir dir(options.data_dir, options.store);
  std::optional<ScratchDb> scratch;
  store::StoreLocation location = dir.library();
  // A dry run never creates a store: not a library.db file, nor the tables of an empty PostgreSQL
  // database (opening a LibraryDb would migrate it).
  if (options.dry_run && (!location.exists() || location.connect()->user_version() == 0)) {
    scratch.emplace();
    location = store::StoreLocation::sqlite(scratch->dir / "library.db");
  } else if (location.is_sqlite() && location.file().has_parent_path()) {
    fs::create_directories(location.file().parent_path());
  }

  store::LibraryDb db(location);
  store::LibraryDb::Import import(db);
  std::set<std::pair<std::string, std::string>> sessions;

  for (const auto& path : resolve_inputs(options)) {
    auto input = record::open_input(path);
    result.inputs.push_back(input.name);
    record::JsonlReader reader(*input.stream, input.name);
    record::Interaction interaction;
    while (reader.next(interaction)) {
      ++result.records_read;
      // A replayed 101 would leave the client waiting for frames nobody sends.
      if (interaction.response.status == 101) {
        ++result.upgrades_skipped;
        continue;
      }
      if (options.service) interaction.service_id = *options.service;
      if (options.session) interaction.session_id = *options.session;
      redactor.apply(interaction);
      try {
        import.add(interaction);
      } catch (const record::FieldError& e) {
        throw InputError(input.name, reader.line(), e.field, e.reason);
      }
      if (options.on_added) options.on_added(interaction, input.name, reader.line());
      sessions.emplace(interaction.service_id,
                       interaction.session_id.empty() ? import.default_session_id() : interaction.session_id);
    }
    result.torn_lines_skipped += reader.torn_lines_skipped();
    result.other_records_skipped += reader.other_records_skipped();
  }
  result.sessions = sessions.size();

  // A dry run counts through the real import and then rolls back (Import's destructor), so its
  // added/duplicate numbers are exactly what a real run would report.
  auto stats = options.dry_run ? import.progress() : import.commit();
  result.added = stats.added;
  result.duplicates = stats.duplicates;
  result.services = stats.services_touched;
  return result;
}

} // namespace gostly::transition
