// The control API: a small JSON router on its own listener. Every route but GET /healthz needs
// X-API-Key; /healthz stays open so load balancers and `wait_for_port`-style probes need no
// secret, and it reveals nothing but liveness and the global mode.
//
// The seed and drift routes do slow, disk-bound work (a HAR import, a drift check over two
// sessions). They run right here on the control listener's single thread: the proxy's workers
// never wait for them, and control calls are serialised, so two imports never race to rebuild
// the same service's mock index. A seed import is one LibraryDb::Import transaction: a bad
// artifact rolls it back whole (HAR is streamed, so records may have been added before the
// error), and only a committed import reloads the service in the running engine.
#include "drift/api.hpp"
#include "drift/check.hpp"
#include "drift/settings.hpp"
#include "http/message.hpp"
#include "record/codec.hpp"
#include "seed/seed.hpp"
#include "serve/engine_impl.hpp"
#include "store/library_db.hpp"
#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <streambuf>
#include <vector>

namespace gostly::serve {

using store::Mode;
using nlohmann::json;

namespace {

std::string reply_json(int status, const json& body) { return http::json_response(status, body.dump()); }

std::string error_json(int status, const std::string& message) { return reply_json(status, json{{"error", message}}); }

std::optional<json> parse_body(const record::Request& request, std::string& error) {
  if (request.body.empty()) return json::object();
  try {
    json body = json::parse(request.body);
    if (!body.is_object()) {
      error = "request body: expected a JSON object";
      return std::nullopt;
    }
    return body;
  } catch (const json::parse_error& e) {
    error = std::string("request body: invalid JSON: ") + e.what();
    return std::nullopt;
  }
}

std::string query_param(std::string_view uri, std::string_view name) {
  std::string_view query = record::uri_query(uri);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return {};
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// A query component with %XX and '+' decoded; UsageError naming `name` for a broken escape.
std::string decode_query_component(std::string_view raw, std::string_view name) {
  std::string value;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '+') value.push_back(' ');
    else if (raw[i] != '%') value.push_back(raw[i]);
    else {
      int high = i + 2 < raw.size() ? hex_digit(raw[i + 1]) : -1;
      int low = i + 2 < raw.size() ? hex_digit(raw[i + 2]) : -1;
      if (high < 0 || low < 0) throw UsageError(std::string(name) + ": broken %-escape in the query string");
      value.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  return value;
}

/// Every value of the query parameter `name`, in order, decoded (for repeatable parameters).
std::vector<std::string> query_values(std::string_view uri, std::string_view name) {
  std::vector<std::string> values;
  std::string_view query = record::uri_query(uri);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      values.push_back(decode_query_component(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), name));
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return values;
}

/// A query value with %XX and '+' decoded (form encoding, as curl --data-urlencode -G sends);
/// nullopt when the parameter is absent. UsageError for a broken escape.
std::optional<std::string> query_value(std::string_view uri, std::string_view name) {
  auto values = query_values(uri, name);
  if (values.empty()) return std::nullopt;
  return std::move(values.front());
}

/// A boolean query flag: absent = `fallback`; present with no value = true; else true/false,
/// 1/0, yes/no, on/off.
bool query_flag(std::string_view uri, std::string_view name, bool fallback) {
  auto value = query_value(uri, name);
  if (!value) return fallback;
  if (value->empty()) return true;
  auto flag = drift::parse_bool(*value);
  if (!flag) throw UsageError(std::string(name) + ": expected true or false, got '" + *value + "'");
  return *flag;
}

/// A service id from the query (validated), or `fallback` when absent.
std::optional<std::string> query_service(std::string_view uri, std::optional<std::string> fallback) {
  auto id = query_value(uri, "service_id");
  if (!id) return fallback;
  util::require_safe_id(*id, "service_id");
  return id;
}

/// Reads a request body in place: a HAR posted to /v1/seed/har may be as large as --max-body,
/// and the importer streams it, so it is not copied into an istringstream first.
class BodyBuffer : public std::streambuf {
public:
  explicit BodyBuffer(const std::string& body) {
    char* begin = const_cast<char*>(body.data()); // read-only: the get area is never written
    setg(begin, begin, begin + body.size());
  }
};

/// Renames the short field names the CLI flags use (`--baseline`, `--user`) to the API's.
void accept_alias(json& body, const char* alias, const char* name) {
  if (body.contains(alias) && !body.contains(name)) {
    body[name] = body[alias];
    body.erase(alias);
  }
}

} // namespace


void Engine::Impl::begin_transition(std::chrono::seconds timeout) {
  std::lock_guard lock(transition_mutex);
  auto current = static_cast<Mode>(global_mode.load());
  if (current != Mode::transitioning) transition_return = current;
  transition_deadline = Clock::now() + timeout;
  if (current != Mode::transitioning) set_global(Mode::transitioning, false);
}

void Engine::Impl::end_transition(std::optional<Mode> mode, bool reload) {
  Mode back;
  {
    std::lock_guard lock(transition_mutex);
    back = mode.value_or(transition_return);
  }
  if (reload) load_libraries();
  // Cursors restart even when the mode stays MOCK: the library just changed under them.
  if (back == Mode::mock) {
    std::lock_guard lock(states_mutex);
    for (auto& [id, state] : states) state->matcher.reset_cursors();
  }
  set_global(back, mode.has_value());
}

void Engine::Impl::check_transition_deadline() {
  bool expired = false;
  {
    std::lock_guard lock(transition_mutex);
    expired = transition_active() && Clock::now() > transition_deadline && !transition_thread.joinable();
  }
  if (expired) {
    spdlog::warn("transition began but never ended: reverting after the timeout");
    end_transition(std::nullopt, false);
  }
  std::lock_guard lock(transition_mutex);
  if (transition_thread.joinable() && !transition_active()) transition_thread.join();
}

void Engine::Impl::join_transition_thread() {
  std::thread thread;
  {
    std::lock_guard lock(transition_mutex);
    thread = std::move(transition_thread);
  }
  if (thread.joinable()) thread.join();
}

void Engine::handle_control(record::Request& request, http::Responder responder) {
  auto& impl = *impl_;
  std::string path(record::uri_path(request.uri));
  const std::string& method = request.method;

  if (path == "/healthz") {
    if (method != "GET" && method != "HEAD") return responder.send(error_json(405, "use GET"));
    return responder.send(reply_json(200, json{{"status", "ok"}, {"mode", store::to_string(global_mode())}}));
  }
  if (!impl.options.api_key.empty()) {
    const std::string* key = record::find_header(request.headers, "x-api-key");
    if (!key) return responder.send(error_json(401, "missing X-API-Key header"));
    if (!keys_equal(*key, impl.options.api_key)) return responder.send(error_json(401, "wrong X-API-Key"));
  }

  std::string error;
  if (path == "/metrics") {
    if (method != "GET") return responder.send(error_json(405, "use GET"));
    record::Response response;
    response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    response.body = impl.metrics.render(impl.library_sizes()) + impl.drift_prometheus();
    return responder.send(response);
  }

  if (path == "/v1/mode") {
    if (method == "GET") {
      json services = json::object();
      std::lock_guard lock(impl.states_mutex);
      for (const auto& [id, state] : impl.states) {
        int override_mode = state->mode_override.load();
        services[id] = {{"mode", store::to_string(impl.effective(*state))},
                        {"override", override_mode >= 0 ? json(store::to_string(static_cast<Mode>(override_mode))) : json()}};
      }
      return responder.send(reply_json(200, json{{"mode", store::to_string(global_mode())}, {"services", services}}));
    }
    if (method != "POST") return responder.send(error_json(405, "use GET or POST"));
    auto body = parse_body(request, error);
    if (!body) return responder.send(error_json(400, error));
    if (!body->contains("mode") || !(*body)["mode"].is_string())
      return responder.send(error_json(400, "mode: expected a string: LEARN, MOCK or PASSTHROUGH"));
    auto mode = store::parse_mode((*body)["mode"].get<std::string>());
    if (!mode) return responder.send(error_json(400, "mode: expected LEARN, MOCK or PASSTHROUGH"));
    if (*mode == Mode::transitioning) return responder.send(error_json(400, "mode: use POST /v1/transition to enter TRANSITIONING"));
    if (impl.transition_active()) return responder.send(error_json(409, "a transition is running; end or abort it first"));
    Mode previous = global_mode();
    set_global_mode(*mode, true);
    return responder.send(reply_json(200, json{{"mode", store::to_string(*mode)}, {"previous", store::to_string(previous)}}));
  }

  if (path == "/v1/mocks/reset-cursors") {
    if (method != "POST") return responder.send(error_json(405, "use POST"));
    std::string only = query_param(request.uri, "service_id");
    std::size_t count = 0;
    std::lock_guard lock(impl.states_mutex);
    for (auto& [id, state] : impl.states)
      if (only.empty() || id == only) {
        state->matcher.reset_cursors();
        ++count;
      }
    if (!only.empty() && count == 0) return responder.send(error_json(404, "unknown service '" + only + "'"));
    return responder.send(reply_json(200, json{{"reset", count}}));
  }

  if (path == "/v1/transition") {
    if (method != "POST") return responder.send(error_json(405, "use POST"));
    auto body = parse_body(request, error);
    if (!body) return responder.send(error_json(400, error));
    std::string action = body->value("action", std::string());
    std::optional<Mode> mode;
    if (body->contains("mode") && !(*body)["mode"].is_null()) {
      if (!(*body)["mode"].is_string()) return responder.send(error_json(400, "mode: expected a string"));
      mode = store::parse_mode((*body)["mode"].get<std::string>());
      if (!mode || *mode == Mode::transitioning) return responder.send(error_json(400, "mode: expected LEARN, MOCK or PASSTHROUGH"));
    }
    auto timeout = impl.options.transition_timeout;
    if (body->contains("timeout_s")) {
      if (!(*body)["timeout_s"].is_number_unsigned()) return responder.send(error_json(400, "timeout_s: expected a positive integer"));
      timeout = std::chrono::seconds((*body)["timeout_s"].get<unsigned>());
    }
    if (action == "begin") {
      impl.begin_transition(timeout);
      return responder.send(reply_json(200, json{{"mode", "TRANSITIONING"}, {"reverts_after_s", timeout.count()}}));
    }
    if (action == "end" || action == "abort") {
      if (!impl.transition_active()) return responder.send(error_json(409, "no transition is running"));
      {
        std::lock_guard lock(impl.transition_mutex);
        if (impl.transition_thread.joinable()) return responder.send(error_json(409, "a transition run is in progress"));
      }
      impl.end_transition(mode, action == "end");
      return responder.send(reply_json(200, json{{"mode", store::to_string(global_mode())}, {"reloaded", action == "end"}}));
    }
    if (action == "run") {
      if (!impl.options.run_transition) return responder.send(error_json(501, "this server cannot run transitions itself; run gostly-transition"));
      std::lock_guard lock(impl.transition_mutex);
      if (impl.transition_thread.joinable() && !impl.transition_active()) impl.transition_thread.join(); // finished
      if (impl.transition_thread.joinable() || impl.transition_active())
        return responder.send(error_json(409, "a transition is already running"));
      auto current = global_mode();
      impl.transition_return = current;
      impl.transition_deadline = Clock::now() + timeout;
      impl.set_global(Mode::transitioning, false);
      impl.transition_thread = std::thread([&impl, mode] {
        bool ok = true;
        try {
          impl.options.run_transition();
        } catch (const std::exception& e) {
          ok = false;
          spdlog::error("transition run failed: {}", e.what());
          std::lock_guard error_lock(impl.transition_mutex);
          impl.transition_last_error = e.what();
        }
        impl.end_transition(ok ? mode : std::nullopt, ok);
      });
      return responder.send(reply_json(202, json{{"mode", "TRANSITIONING"}, {"running", true}}));
    }
    return responder.send(error_json(400, "action: expected begin, end, abort or run"));
  }

  if (path.starts_with("/v1/seed/")) {
    if (method != "POST") return responder.send(error_json(405, "use POST"));
    return responder.send(impl.seed_route(request, path.substr(std::string_view("/v1/seed/").size())));
  }

  if (path.starts_with("/v1/drift/")) return responder.send(impl.drift_route(request, path));

  if (path.starts_with("/services/") || path == "/services") {
    if (path == "/services") {
      if (method != "GET") return responder.send(error_json(405, "use GET"));
      json list = json::array();
      for (const auto& config : impl.current_table().services) list.push_back(config.id);
      return responder.send(reply_json(200, json{{"services", list}}));
    }
    std::string id = path.substr(std::string_view("/services/").size());
    if (!util::is_safe_id(id)) return responder.send(error_json(400, "service id '" + id + "': expected 1-128 of [A-Za-z0-9._-]"));
    auto describe = [&](const ServiceConfig& config) {
      auto& state = *config.state;
      int override_mode = state.mode_override.load();
      std::string session;
      {
        std::lock_guard lock(state.session_mutex);
        session = state.session_id;
      }
      json route;
      if (config.route) route = config.route->match;
      return json{{"id", config.id},
                  {"mode", store::to_string(impl.effective(state))},
                  {"mode_override", override_mode >= 0 ? json(store::to_string(static_cast<Mode>(override_mode))) : json()},
                  {"upstream", config.upstream ? json(config.upstream->to_string()) : json()},
                  {"route", route},
                  {"redact_headers", config.extra_redact},
                  {"library_size", state.matcher.library_size()},
                  {"session_id", session},
                  {"session_size", state.matcher.session_size()}};
    };
    auto find = [&](const Table& t) -> const ServiceConfig* {
      for (const auto& config : t.services)
        if (config.id == id) return &config;
      return nullptr;
    };
    if (method == "GET") {
      const ServiceConfig* config = find(impl.current_table());
      if (!config) return responder.send(error_json(404, "unknown service '" + id + "'"));
      return responder.send(reply_json(200, describe(*config)));
    }
    if (method != "PUT") return responder.send(error_json(405, "use GET or PUT"));
    auto body = parse_body(request, error);
    if (!body) return responder.send(error_json(400, error));
    std::lock_guard table_lock(impl.table_mutex); // one writer at a time; readers are not blocked
    auto next = std::make_shared<Table>(*impl.table);
    ServiceConfig* config = nullptr;
    for (auto& c : next->services)
      if (c.id == id) config = &c;
    ServiceConfig fresh;
    if (!config) {
      fresh.id = id;
      fresh.redactor = std::make_shared<redact::Redactor>(impl.base_redactor);
      config = &fresh;
    }
    std::optional<std::optional<Mode>> new_override;
    try {
      if (body->contains("upstream")) {
        const json& value = (*body)["upstream"];
        if (value.is_null()) config->upstream.reset();
        else {
          auto url = value.is_string() ? http::parse_url(value.get<std::string>()) : std::nullopt;
          if (!url) return responder.send(error_json(400, "upstream: expected an http:// or https:// URL"));
          config->upstream = *url;
        }
      }
      if (body->contains("route")) {
        const json& value = (*body)["route"];
        if (value.is_null()) config->route.reset();
        else if (!value.is_string()) return responder.send(error_json(400, "route: expected HOST or /PREFIX"));
        else {
          Route route = parse_route_match(value.get<std::string>(), id);
          for (const auto& other : next->services)
            if (other.id != id && other.route && other.route->match == route.match)
              return responder.send(error_json(409, "route '" + route.match + "' already belongs to service '" + other.id + "'"));
          config->route = route;
        }
      }
      if (body->contains("redact_headers")) {
        const json& value = (*body)["redact_headers"];
        if (!value.is_array()) return responder.send(error_json(400, "redact_headers: expected an array of header names"));
        std::vector<std::string> names;
        for (const auto& name : value) {
          if (!name.is_string()) return responder.send(error_json(400, "redact_headers: expected strings"));
          names.push_back(util::to_lower(name.get<std::string>()));
        }
        auto redactor = std::make_shared<redact::Redactor>(impl.base_redactor);
        for (const auto& name : names) redactor->add(name);
        config->extra_redact = std::move(names);
        config->redactor = std::move(redactor);
      }
      if (body->contains("mode")) {
        const json& value = (*body)["mode"];
        if (value.is_null()) new_override = std::optional<Mode>{};
        else {
          auto mode = value.is_string() ? store::parse_mode(value.get<std::string>()) : std::nullopt;
          if (!mode || *mode == Mode::transitioning)
            return responder.send(error_json(400, "mode: expected LEARN, MOCK, PASSTHROUGH or null"));
          new_override = mode;
        }
      }
    } catch (const Error& e) {
      return responder.send(error_json(400, e.what()));
    }
    bool created = config == &fresh;
    if (created) {
      // state_for takes states_mutex, never table_mutex, so holding table_mutex here is safe.
      fresh.state = &impl.state_for(id);
      next->services.push_back(std::move(fresh));
      config = &next->services.back();
    }
    Impl::index_routes(*next);
    ServiceState& state = *config->state;
    json described = describe(*config);
    impl.table = next;
    impl.generation.fetch_add(1, std::memory_order_release);
    if (new_override) {
      impl.set_override(state, *new_override);
      described["mode"] = store::to_string(impl.effective(state));
      described["mode_override"] = *new_override ? json(store::to_string(**new_override)) : json();
      try {
        std::error_code ec;
        if (std::filesystem::exists(impl.data.library_db(), ec)) {
          store::LibraryDb db(impl.data.library_db());
          db.ensure_service(id);
          db.set_service_mode(id, *new_override ? std::optional<std::string>(std::string(store::to_string(**new_override)))
                                                : std::nullopt);
        }
      } catch (const std::exception& e) {
        spdlog::warn("service {}: mode override not persisted: {}", id, e.what());
      }
    }
    return responder.send(reply_json(created ? 201 : 200, described));
  }

  responder.send(error_json(404, "no route " + method + " " + path));
}

void Engine::Impl::reload_service(store::LibraryDb& db, const std::string& id) {
  ServiceState& state = state_for(id);
  state.matcher.load_library(db.load_library(id));
  state.matcher.reset_cursors();
  spdlog::info("service {}: {} mocks loaded", id, state.matcher.library_size());
}

std::string Engine::Impl::seed_route(const record::Request& request, const std::string& format_name) {
  seed::Format format;
  try {
    format = seed::parse_format(format_name);
  } catch (const UsageError&) {
    return error_json(404, "unknown seed format '" + format_name + "': expected har, postman or openapi");
  }
  seed::SeedOptions seed_options;
  try {
    // No service_id: HAR maps each host to its own service, the others seed `default`.
    seed_options.service = query_service(request.uri, std::nullopt);
    seed_options.session = query_value(request.uri, "session_id");
    if (seed_options.session) util::require_safe_id(*seed_options.session, "session_id");
    seed_options.on_bad_entry = query_flag(request.uri, "strict", false) ? seed::OnBadEntry::fail : seed::OnBadEntry::skip;
    seed_options.placeholder = query_flag(request.uri, "placeholder", false);
    seed_options.base_url = query_value(request.uri, "base_url").value_or("");
    // gostly-seed's repeatable --host (HAR) and --var NAME=VALUE (Postman).
    seed_options.hosts = query_values(request.uri, "host");
    for (const auto& assignment : query_values(request.uri, "var")) seed_options.vars.push_back(seed::parse_var(assignment));
  } catch (const Error& e) {
    return error_json(400, e.what());
  }
  if (request.body.empty()) return error_json(400, "request body: empty; send the " + format_name + " document");
  seed_options.on_warning = [&](const std::string& text) { spdlog::debug("seed {}: {}", format_name, text); };

  const std::string source = "request body";
  try {
    data.ensure();
    store::LibraryDb db(data.library_db());
    seed::SeedReport report;
    store::ImportStats stats;
    {
      std::shared_ptr<const Table> routing = [&] {
        std::lock_guard lock(table_mutex);
        return table;
      }();
      store::LibraryDb::Import import(db);
      BodyBuffer buffer(request.body);
      std::istream in(&buffer);
      report = seed::import(format, in, source, seed_options, [&](record::Interaction&& interaction) {
        // The importer stripped the floor and REDACT_HEADERS; a routed service's own
        // redact_headers (PUT /services/{id}) apply too, as they do to LEARN recordings.
        for (const auto& config : routing->services)
          if (config.id == interaction.service_id && config.redactor) config.redactor->apply(interaction);
        import.add(interaction);
      });
      stats = import.commit(); // an exception above destroys `import` uncommitted: rolled back
    }
    // Every service the artifact named, even when all its records were duplicates: the answer
    // then still reports (and the engine still holds) the library as it is on disk.
    std::vector<std::string> services = report.services;
    for (const auto& id : stats.services_touched)
      if (std::find(services.begin(), services.end(), id) == services.end()) services.push_back(id);
    json library = json::object();
    for (const auto& id : services) {
      reload_service(db, id);
      library[id] = state_for(id).matcher.library_size();
    }
    json out = seed::report_to_json(report);
    out.erase("type");
    out["added"] = stats.added;
    out["duplicates"] = stats.duplicates;
    out["library_size"] = library;
    spdlog::info("seeded {} from {}: {} added, {} duplicates", format_name, source, stats.added, stats.duplicates);
    return reply_json(stats.added > 0 ? 201 : 200, out);
  } catch (const InputError& e) {
    return error_json(422, e.what());
  } catch (const record::FieldError& e) {
    return error_json(422, source + ": " + e.field + ": " + e.reason);
  } catch (const UsageError& e) {
    return error_json(400, e.what());
  } catch (const std::exception& e) {
    metrics.count_io_error(IoOperation::library_load);
    spdlog::error("seed {}: {}", format_name, e.what());
    return error_json(500, std::string("seed failed: ") + e.what());
  }
}

std::string Engine::Impl::drift_route(const record::Request& request, const std::string& path) {
  const std::string& method = request.method;
  auto wrong_method = [&](const char* allowed) { return error_json(405, std::string("use ") + allowed); };
  std::string_view rest = std::string_view(path).substr(std::string_view("/v1/drift/").size());
  try {
    if (rest == "check") {
      if (method != "POST") return wrong_method("POST");
      std::string error;
      auto body = parse_body(request, error);
      if (!body) return error_json(400, error);
      accept_alias(*body, "baseline", "baseline_session_id");
      accept_alias(*body, "current", "current_session_id");
      if (!body->contains("service_id")) (*body)["service_id"] = options.default_service;
      drift::DriftSettings settings;
      try {
        settings = drift::DriftSettings::from_environment();
      } catch (const UsageError& e) {
        return error_json(500, std::string("server environment: ") + e.what());
      }
      store::LibraryDb db(data.library_db());
      json result = drift::api::check(db, *body, settings);
      spdlog::info("drift check: {} events, {} new major, {} new minor", result["count"].get<std::uint64_t>(),
                   result["new"]["major"].get<std::uint64_t>(), result["new"]["minor"].get<std::uint64_t>());
      return reply_json(200, result);
    }
    if (rest == "events") {
      if (method != "GET") return wrong_method("GET");
      auto service = query_service(request.uri, std::nullopt);
      // `open` is the CLI's word (--open), `unacknowledged_only` the product guide's.
      bool open_only = query_flag(request.uri, "open", false) || query_flag(request.uri, "unacknowledged_only", false);
      store::LibraryDb db(data.library_db());
      return reply_json(200, drift::api::events(db, service, open_only));
    }
    if (rest.starts_with("events/")) {
      std::string_view tail = rest.substr(std::string_view("events/").size());
      bool acknowledge = false;
      if (auto slash = tail.find('/'); slash != std::string_view::npos) {
        if (tail.substr(slash) != "/acknowledge") return error_json(404, "no route " + method + " " + path);
        acknowledge = true;
        tail = tail.substr(0, slash);
      }
      std::int64_t id = drift::api::parse_event_id(std::string(tail));
      if (!acknowledge) {
        if (method != "GET") return wrong_method("GET");
        store::LibraryDb db(data.library_db());
        return reply_json(200, drift::api::event(db, id));
      }
      if (method != "POST") return wrong_method("POST");
      std::string error;
      auto body = parse_body(request, error);
      if (!body) return error_json(400, error);
      accept_alias(*body, "user", "user_id");
      accept_alias(*body, "reason", "reason_text");
      store::LibraryDb db(data.library_db());
      return reply_json(200, drift::api::acknowledge(db, id, *body));
    }
    if (rest == "freshness-score" || rest == "sparkline" || rest == "metrics") {
      if (method != "GET") return wrong_method("GET");
      store::LibraryDb db(data.library_db());
      if (rest == "metrics") return reply_json(200, drift::api::metrics(db));
      std::string service = *query_service(request.uri, options.default_service);
      if (rest == "sparkline") return reply_json(200, drift::api::sparkline(db, service));
      return reply_json(200, drift::api::freshness_score(db, service));
    }
    return error_json(404, "no route " + method + " " + path);
  } catch (const drift::UnknownSessionError& e) {
    return error_json(422, e.what());
  } catch (const NotFoundError& e) {
    return error_json(404, e.what());
  } catch (const UsageError& e) {
    return error_json(400, e.what());
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", method, path, e.what());
    return error_json(500, e.what());
  }
}

std::string Engine::Impl::drift_prometheus() {
  std::error_code ec;
  if (!std::filesystem::exists(data.library_db(), ec)) {
    // Same lines as drift::api::prometheus() gives for an empty store, without creating the file.
    return "# HELP gostly_drift_events_total Drift events detected (new events only; re-checks do not count).\n"
           "# TYPE gostly_drift_events_total counter\n"
           "gostly_drift_events_total{severity=\"major\"} 0\n"
           "gostly_drift_events_total{severity=\"minor\"} 0\n";
  }
  try {
    store::LibraryDb db(data.library_db());
    return drift::api::prometheus(db);
  } catch (const std::exception& e) {
    // A scrape must still get the proxy's own counters; the failure shows up as an I/O error.
    metrics.count_io_error(IoOperation::library_load);
    spdlog::warn("/metrics: cannot read drift totals: {}", e.what());
    return {};
  }
}

} // namespace gostly::serve
