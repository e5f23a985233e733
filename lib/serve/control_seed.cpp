// Control API, seeding: POST /v1/seed/{har,postman,openapi}?service_id=&session_id=&strict=
// &host=&var=&placeholder=&base_url= (gostly-seed's options as query parameters).
//
// The artifact is a stranger's file, and a parser bug on it (a cyclic YAML alias, a 50 000-deep
// nest, an exponential expansion) must cost this caller an error, never the proxy. So the import
// runs in a gostly-seed child under the work budget (worker.hpp): the body goes to its stdin,
// its JSONL records come back on stdout and go through the same redaction and one
// LibraryDb::Import transaction as ever. Only a child that exited 0 commits; a refused, crashed,
// timed-out or over-budget child rolls the transaction back whole, and only a committed import
// reloads the service in the running engine. Routes and limits: control.cpp.
#include "record/codec.hpp"
#include "seed/seed.hpp"
#include "serve/control.hpp"
#include "serve/engine_impl.hpp"
#include "serve/worker.hpp"
#include "store/library_db.hpp"
#include "store/sql.hpp"
#include "util/limits.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace gostly::serve {

using namespace control;

namespace {

/// gostly-seed's arguments for the query of `uri`: the same options, each validated here so
/// a bad one is a 400 before any child starts. Options of other formats are ignored, as the
/// in-process importer ignored them.
std::vector<std::string> seed_command(seed::Format format, std::string_view uri) {
  std::vector<std::string> argv{"--quiet", "--color=never", "--json"};
  // No service_id: HAR maps each host to its own service, the others seed `default`.
  if (auto service = query_service(uri, std::nullopt)) argv.push_back("--service=" + *service);
  if (auto session = query_value(uri, "session_id")) {
    util::require_safe_id(*session, "session_id");
    argv.push_back("--session=" + *session);
  }
  if (query_flag(uri, "strict", false)) argv.push_back("--strict");
  bool placeholder = query_flag(uri, "placeholder", false);
  auto base_url = query_value(uri, "base_url");
  auto hosts = query_values(uri, "host");
  auto vars = query_values(uri, "var");
  for (const auto& assignment : vars) seed::parse_var(assignment); // UsageError without NAME=
  argv.emplace_back(seed::to_string(format));
  switch (format) {
  case seed::Format::har:
    for (const auto& host : hosts) argv.push_back("--host=" + host);
    break;
  case seed::Format::postman:
    for (const auto& assignment : vars) argv.push_back("--var=" + assignment);
    if (placeholder) argv.emplace_back("--placeholder");
    break;
  case seed::Format::openapi:
    if (base_url && !base_url->empty()) argv.push_back("--base-url=" + *base_url);
    break;
  }
  argv.emplace_back("-");
  return argv;
}

/// The child names its input `<stdin>`; for the caller it is the request body.
std::string as_request_body(std::string message) {
  for (std::size_t at = message.find("<stdin>"); at != std::string::npos; at = message.find("<stdin>", at))
    message.replace(at, 7, "request body");
  return message;
}

} // namespace

void Engine::Impl::reload_service(store::LibraryDb& db, const std::string& id) {
  ServiceState& state = state_for(id);
  state.matcher.load_library(db.load_library(id));
  state.matcher.reset_cursors();
  spdlog::info("service {}: {} mocks loaded", id, state.matcher.library_size());
}

std::string Engine::Impl::seed_post(const ControlCall& call) {
  const std::string& format_name = call.params.at(0);
  seed::Format format;
  try {
    format = seed::parse_format(format_name);
  } catch (const UsageError&) {
    throw HttpError(404, "unknown seed format '" + format_name + "': expected har, postman or openapi");
  }
  std::vector<std::string> argv = seed_command(format, call.request.uri);
  if (call.request.body.empty()) throw HttpError(400, "request body: empty; send the " + format_name + " document");
  argv.insert(argv.begin(), sibling_tool("gostly-seed").string());

  try {
    data.ensure();
    store::LibraryDb db(data.library());
    std::shared_ptr<const Table> routing = [&] {
      std::lock_guard lock(table_mutex);
      return table;
    }();
    store::LibraryDb::Import import(db);
    std::uint64_t line = 0;
    WorkResult result = run_work(argv, call.request.body, [&](std::string_view text) {
      ++line;
      record::Interaction interaction;
      try {
        interaction = record::from_json(util::parse_json(text));
        record::check_wire_safe(interaction);
      } catch (const record::FieldError& e) {
        throw HttpError(500, "gostly-seed output line " + std::to_string(line) + ": " + e.field + ": " + e.reason);
      } catch (const std::exception& e) {
        throw HttpError(500, "gostly-seed output line " + std::to_string(line) + ": " + e.what());
      }
      // The child stripped the floor and REDACT_HEADERS; the daemon applies them again (it
      // trusts no output it did not make), with a routed service's own redact_headers (PUT
      // /services/{id}) on top, as it does to LEARN recordings.
      const redact::Redactor* redactor = &base_redactor;
      for (const auto& config : routing->services)
        if (config.id == interaction.service_id && config.redactor) redactor = config.redactor.get();
      redactor->apply(interaction);
      import.add(interaction);
    }, options.work);
    if (!result.ok()) {
      int status = 500;
      std::string message = describe_failure(result, options.work, "the " + format_name + " import", status);
      spdlog::warn("seed {}: {} ({} ms)", format_name, message, result.elapsed.count());
      return error_json(status, as_request_body(message)); // `import` rolls back as it goes out of scope
    }
    json report;
    try {
      report = util::parse_json(result.last_stderr_line());
    } catch (const std::exception&) {
    }
    if (!report.is_object() || report.value("type", "") != "seed_report")
      throw Error("gostly-seed ended without its report: " + result.last_stderr_line());
    store::ImportStats stats = import.commit();
    // Every service the artifact named, even when all its records were duplicates: the answer
    // then still reports (and the engine still holds) the library as it is on disk.
    std::vector<std::string> services;
    if (report.contains("services") && report["services"].is_array())
      for (const auto& id : report["services"])
        if (id.is_string()) services.push_back(id.get<std::string>());
    for (const auto& id : stats.services_touched)
      if (std::find(services.begin(), services.end(), id) == services.end()) services.push_back(id);
    json library = json::object();
    std::vector<std::string> loaded;
    for (const auto& id : services) {
      if (!util::is_safe_id(id)) continue;
      reload_service(db, id);
      library[id] = state_for(id).matcher.library_size();
      loaded.push_back(id);
    }
    if (!loaded.empty()) store_health.note_reload(ReloadTrigger::control);
    adopt_services(loaded); // hosts as services: a host seeded here is answered by its Host from now on
    report.erase("type");
    report["added"] = stats.added;
    report["duplicates"] = stats.duplicates;
    report["library_size"] = library;
    spdlog::info("seeded {} from the request body: {} added, {} duplicates ({} ms)", format_name, stats.added,
                 stats.duplicates, result.elapsed.count());
    return reply_json(stats.added > 0 ? 201 : 200, report);
  } catch (const HttpError&) {
    throw;
  } catch (const record::FieldError& e) {
    return error_json(422, "request body: " + e.field + ": " + e.reason);
  } catch (const store::sql::UnavailableError& e) {
    spdlog::error("seed {}: {}", format_name, e.what());
    return error_json(503, std::string("seed failed: ") + e.what());
  } catch (const std::exception& e) {
    metrics.count_io_error(IoOperation::library_load);
    spdlog::error("seed {}: {}", format_name, e.what());
    return error_json(500, std::string("seed failed: ") + e.what());
  }
}

} // namespace gostly::serve
