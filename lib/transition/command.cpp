#include "transition/command.hpp"

#include "bundle/bundle.hpp"
#include "drift/events.hpp"
#include "store/sql.hpp"
#include "store/data_dir.hpp"
#include "store/library_db.hpp"
#include "store/mode.hpp"
#include "transition/control_client.hpp"
#include "transition/transition.hpp"
#include "transition/verify.hpp"
#include "record/codec.hpp"
#include "util/error.hpp"
#include "util/limits.hpp"
#include "util/time.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gostly::transition {

namespace {

// Standard input as the default input (`gostly-record ... | gostly-transition`, DESIGN's own
// example): a pipe or a redirected file, not a terminal or /dev/null. `wait` = block, like
// reading `-` would, until the producer writes its first byte or exits; else only what is there
// now. An empty one is no input: cron and ssh hand their jobs an empty pipe.
bool stdin_has_data(bool wait) {
  struct stat in {};
  if (::fstat(STDIN_FILENO, &in) != 0 || !(S_ISFIFO(in.st_mode) || S_ISREG(in.st_mode))) return false;
  if (!wait) {
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    if (::poll(&fd, 1, 0) <= 0 || !(fd.revents & POLLIN)) return false;
  }
  return std::cin.peek() != std::char_traits<char>::eof();
}

using json = nlohmann::ordered_json;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

void validate(const Options& o) {
  if (o.export_file && o.import_file) throw UsageError("--export and --import cannot be combined");
  if (o.migrate && (o.export_file || o.import_file || !o.transition.inputs.empty() || o.transition.dry_run ||
                    o.control || o.verify))
    throw UsageError("--migrate takes no inputs and no other action");
  bool bundle = o.export_file || o.import_file;
  const char* which = o.export_file ? "--export" : "--import";
  if (bundle && !o.transition.inputs.empty()) throw UsageError(std::string(which) + " takes no input files");
  if (bundle && (o.transition.service || o.transition.session))
    throw UsageError(std::string("--service and --session cannot be used with ") + which);
  if (bundle && o.transition.dry_run) throw UsageError(std::string("--dry-run cannot be used with ") + which);
  if (o.export_file && o.control) throw UsageError("--control has nothing to do with --export");
  if (o.then_mode) {
    if (!o.control) throw UsageError("--then-mode needs --control");
    auto mode = store::parse_mode(*o.then_mode);
    if (!mode || *mode == store::Mode::transitioning)
      throw UsageError("--then-mode: expected LEARN, MOCK or PASSTHROUGH, got '" + *o.then_mode + "'");
  }
  if (o.control && o.transition.dry_run) throw UsageError("--dry-run does not contact --control");
  if (o.verify && (bundle || o.transition.dry_run))
    throw UsageError(std::string("--verify cannot be used with ") + (o.transition.dry_run ? "--dry-run" : which));
  std::size_t stdin_count = 0;
  for (const auto& input : o.transition.inputs) stdin_count += input == "-";
  if (stdin_count > 1) throw UsageError("'-' (stdin) can be named only once");
}

// Wraps a library write in the begin/end/abort handshake when --control is given.
template <typename Write> auto with_control(const Options& o, Write&& write) {
  if (!o.control) return write();
  const char* key = std::getenv("GHOST_API_KEY");
  ControlClient client(*o.control, key ? key : "");
  client.begin();
  try {
    auto result = write();
    std::optional<std::string> mode;
    if (o.then_mode) mode = std::string(store::to_string(*store::parse_mode(*o.then_mode)));
    client.end(mode);
    return result;
  } catch (...) {
    try {
      client.abort();
    } catch (const std::exception& e) {
      spdlog::warn("could not tell {} to abort the transition: {}", *o.control, e.what());
    }
    throw;
  }
}

void report_transition(const Options& o, const TransitionResult& r) {
  if (o.json) {
    json out = {{"type", "transition_summary"},
                {"dry_run", r.dry_run},
                {"inputs", r.inputs},
                {"records_read", r.records_read},
                {"added", r.added},
                {"duplicates", r.duplicates},
                {"torn_lines_skipped", r.torn_lines_skipped},
                {"other_records_skipped", r.other_records_skipped},
                {"upgrades_skipped", r.upgrades_skipped},
                {"services", r.services},
                {"sessions", r.sessions}};
    std::cout << out.dump() << "\n" << std::flush;
    return;
  }
  if (o.quiet) return;
  std::ostringstream line;
  line << "gostly-transition: " << (r.dry_run ? "dry run: " : "") << "read " << r.records_read << " record"
       << (r.records_read == 1 ? "" : "s") << " from " << r.inputs.size() << " input" << (r.inputs.size() == 1 ? "" : "s")
       << "; " << (r.dry_run ? "would add " : "added ") << r.added << ", " << r.duplicates << " duplicate"
       << (r.duplicates == 1 ? "" : "s") << "; services: " << join(r.services) << "; sessions: " << r.sessions;
  if (r.torn_lines_skipped) line << "; torn lines skipped: " << r.torn_lines_skipped;
  if (r.upgrades_skipped) line << "; WebSocket upgrades skipped (never replayed): " << r.upgrades_skipped;
  std::cerr << line.str() << "\n";
}

// --verify's spool: each interaction as it went into the library, with where it came from, so
// stdin can be replayed too and no body stays in memory. Removed when done.
struct Spool {
  std::filesystem::path path = std::filesystem::temp_directory_path() / (util::random_id("gostly-verify-") + ".jsonl");
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  Spool() {
    if (!out) throw Error(path.string() + ": cannot create the --verify spool");
  }
  ~Spool() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

int report_verify(const Options& o, const VerifyResult& r) {
  if (!o.quiet || o.json) {
    for (const auto& f : r.findings) {
      std::cerr << "gostly-transition: verify: " << f.method << " " << f.uri << " (" << f.at;
      if (f.service_id != record::kDefaultService) std::cerr << ", service " << f.service_id;
      std::cerr << "): " << kind_name(f.kind) << ": " << f.detail << "\n";
    }
    if (r.problems > r.findings.size())
      std::cerr << "gostly-transition: verify: ... and " << r.problems - r.findings.size() << " more\n";
  }
  if (o.json) {
    json findings = json::array();
    for (const auto& f : r.findings)
      findings.push_back({{"kind", kind_name(f.kind)}, {"at", f.at}, {"service_id", f.service_id}, {"method", f.method},
                          {"uri", f.uri}, {"tier", f.tier}, {"answered_by", f.answered_by}, {"detail", f.detail}});
    std::cout << json{{"type", "verify_summary"}, {"checked", r.checked}, {"as_recorded", r.as_recorded},
                      {"problems", r.problems}, {"findings", findings}}
                     .dump(-1, ' ', false, json::error_handler_t::replace)
              << "\n" << std::flush;
  } else if (!o.quiet || r.problems) {
    std::cerr << "gostly-transition: verify: replayed " << r.checked << ", " << r.as_recorded << " answered as recorded, "
              << r.problems << " would not be" << (r.problems ? " (the library is committed all the same)" : "") << "\n";
  }
  return r.problems ? 1 : 0;
}

int run_verified(const Options& o) {
  Spool spool;
  Options with_spool = o;
  with_spool.transition.on_added = [&spool](const record::Interaction& interaction, const std::string& input,
                                            std::uint64_t line) {
    auto object = record::to_json(interaction);
    object["verify_at"] = input + ":" + std::to_string(line);
    spool.out << object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  };
  auto result = with_control(o, [&] { return run_transition(with_spool.transition); });
  report_transition(o, result);
  spool.out.close();
  if (!spool.out) throw Error(spool.path.string() + ": cannot write the --verify spool (disk full?)");

  store::LibraryDb db(store::DataDir(o.transition.data_dir, o.transition.store).library());
  Verifier verifier(db);
  std::ifstream in(spool.path, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    auto object = util::parse_json(line);
    verifier.check(record::from_json(object), object.value("verify_at", std::string()));
  }
  return report_verify(o, verifier.result());
}

// For operators: the schema changes every tool applies on open, run once, on purpose, with the
// versions before and after in the report.
int run_migrate(const Options& o, const store::DataDir& dir) {
  if (dir.library().is_sqlite() && dir.library().file().has_parent_path())
    std::filesystem::create_directories(dir.library().file().parent_path());
  int library_before = dir.library().connect()->user_version();
  store::LibraryDb db(dir.library());
  int drift_before = db.domain_version("drift");
  drift::EventStore events(db);
  int library_after = db.schema_version();
  int drift_after = db.domain_version("drift");
  if (o.json) {
    std::cout << json{{"type", "migrate_summary"}, {"store", db.name()},
                      {"library_schema", {{"from", library_before}, {"to", library_after}}},
                      {"drift_schema", {{"from", drift_before}, {"to", drift_after}}}}.dump()
              << "\n" << std::flush;
  } else if (!o.quiet) {
    auto change = [](int from, int to) {
      return from == to ? "version " + std::to_string(to) + " (up to date)"
                        : "version " + std::to_string(from) + " -> " + std::to_string(to);
    };
    std::cerr << "gostly-transition: " << db.name() << ": library schema " << change(library_before, library_after)
              << ", drift schema " << change(drift_before, drift_after) << "\n";
  }
  return 0;
}

} // namespace

int run(const Options& o) {
  validate(o);
  store::DataDir dir(o.transition.data_dir, o.transition.store);
  if (o.migrate) return run_migrate(o, dir);

  if (o.export_file) {
    if (!dir.library().exists())
      throw UsageError(dir.library().name() + ": no library to export (run gostly-transition first)");
    store::LibraryDb db(dir.library());
    auto r = bundle::export_bundle(db, *o.export_file, o.force ? bundle::Overwrite::yes : bundle::Overwrite::no);
    json services = json::object();
    for (const auto& [id, count] : r.services) services[id] = count;
    if (o.json) {
      std::cout << json{{"type", "export_summary"}, {"file", *o.export_file}, {"interactions", r.interactions},
                        {"services", services}, {"pii_replaced", r.scrubbed.total()}}.dump()
                << "\n" << std::flush;
    } else if (!o.quiet) {
      std::cerr << "gostly-transition: exported " << r.interactions << " interactions of " << r.services.size()
                << " service" << (r.services.size() == 1 ? "" : "s") << " to " << *o.export_file << " ("
                << r.scrubbed.total() << " PII values replaced)\n";
    }
    return 0;
  }

  if (o.import_file) {
    std::filesystem::create_directories(dir.root());
    const auto redactor = make_redactor(o.transition);
    auto r = with_control(o, [&] {
      store::LibraryDb db(dir.library());
      return bundle::import_bundle(db, *o.import_file, redactor);
    });
    if (o.json) {
      std::cout << json{{"type", "import_summary"}, {"file", *o.import_file}, {"records_read", r.records_read},
                        {"added", r.added}, {"duplicates", r.duplicates}, {"services", r.services}}.dump()
                << "\n" << std::flush;
    } else if (!o.quiet) {
      std::cerr << "gostly-transition: imported " << r.records_read << " records from " << *o.import_file << "; added "
                << r.added << ", " << r.duplicates << " duplicates; services: " << join(r.services) << "\n";
    }
    return 0;
  }

  // With no input named: the recordings in traffic/ first, as always (a job whose standard input
  // is an open pipe, e.g. a CI shell reading its script from it, must not block or eat it), and
  // only without recordings standard input.
  Options run_options = o;
  if (o.transition.inputs.empty()) {
    // Resolved once: the files decided on here are the ones read.
    run_options.transition.inputs = resolve_inputs(o.transition);
    if (!run_options.transition.inputs.empty()) {
      if (stdin_has_data(false))
        spdlog::warn("reading the recordings in {}; standard input is not read (give - to read it)",
                     dir.traffic_dir().string());
    } else if (stdin_has_data(true)) {
      run_options.transition.inputs = {"-"};
    } else {
      spdlog::warn("no inputs given, no recordings in {} and nothing on standard input", dir.traffic_dir().string());
    }
  }
  if (run_options.verify) return run_verified(run_options);
  auto result = with_control(run_options, [&] { return run_transition(run_options.transition); });
  report_transition(run_options, result);
  return 0;
}

} // namespace gostly::transition
