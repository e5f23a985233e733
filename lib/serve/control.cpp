// The control API: a small JSON router on its own listener. Every route but GET /healthz needs
// X-API-Key; /healthz stays open so load balancers and `wait_for_port`-style probes need no
// secret, and it reveals nothing but liveness and the global mode.
#include "http/message.hpp"
#include "serve/engine_impl.hpp"
#include "store/library_db.hpp"
#include "util/encoding.hpp"
#include "util/error.hpp"

#include <spdlog/spdlog.h>

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
    response.body = impl.metrics.render(impl.library_sizes());
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
          if (!url || url->scheme != "http") return responder.send(error_json(400, "upstream: expected an http:// URL"));
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

} // namespace gostly::serve
