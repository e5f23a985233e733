// Control API, services: GET /services, GET|PUT /services/{id} (upstream, route, extra redacted
// headers, a mode override and chaos per service). Routes and limits: control.cpp. The mode
// override, the extra redacted headers and chaos are stored in library.db (load_libraries() reads
// them back on start); upstream and route come from the command line and last until the server stops.
#include "serve/control.hpp"
#include "serve/engine_impl.hpp"
#include "record/codec.hpp"
#include "store/library_db.hpp"
#include "store/sql.hpp"
#include "util/encoding.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace gostly::serve {

using namespace control;
using store::Mode;

namespace {

const std::string& checked_id(const std::string& id) {
  if (!util::is_safe_id(id)) throw HttpError(400, "service id '" + id + "': expected 1-128 of [A-Za-z0-9._-]");
  return id;
}

// What PUT /services/{id} takes; anything else is a 400 naming it, so a misspelt field is never
// silently ignored. The rest of what GET shows is computed, not set.
constexpr std::string_view kPutFields[] = {"mode", "upstream", "route", "redact_headers", "chaos"};
constexpr std::string_view kReadOnlyFields[] = {"id", "mode_override", "library_size", "session_id", "session_size"};

void check_put_fields(const json& body) {
  for (const auto& [name, value] : body.items()) {
    if (std::find(std::begin(kPutFields), std::end(kPutFields), name) != std::end(kPutFields)) continue;
    std::string takes;
    for (auto field : kPutFields) takes += (takes.empty() ? "" : ", ") + std::string(field);
    bool read_only = std::find(std::begin(kReadOnlyFields), std::end(kReadOnlyFields), name) != std::end(kReadOnlyFields);
    throw HttpError(400, (read_only ? "'" + name + "' is read-only" : "unknown field '" + name + "'") +
                             ": PUT /services/{id} takes " + takes);
  }
}

} // namespace

std::string Engine::Impl::services_list(const ControlCall&) {
  json list = json::array();
  for (const auto& config : current_table().services) list.push_back(config.id);
  return reply_json(200, json{{"services", list}});
}

json Engine::Impl::describe_service(const ServiceConfig& config) const {
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
              {"mode", store::to_string(effective(state))},
              {"mode_override", override_mode >= 0 ? json(store::to_string(static_cast<Mode>(override_mode))) : json()},
              {"upstream", config.upstream ? json(config.upstream->to_string()) : json()},
              {"route", route},
              {"redact_headers", config.extra_redact},
              {"library_size", state.matcher.library_size()},
              {"session_id", session},
              {"session_size", state.matcher.session_size()},
              {"chaos", config.chaos ? to_json(config.chaos->spec()) : json()}};
}

std::string Engine::Impl::service_get(const ControlCall& call) {
  const std::string& id = checked_id(call.params.at(0));
  for (const auto& config : current_table().services)
    if (config.id == id) return reply_json(200, describe_service(config));
  throw HttpError(404, "unknown service '" + id + "'");
}

std::string Engine::Impl::service_put(const ControlCall& call) {
  const std::string& id = checked_id(call.params.at(0));
  json body = parse_body(call.request);
  check_put_fields(body);
  std::lock_guard table_lock(table_mutex); // one writer at a time; readers are not blocked
  auto next = std::make_shared<Table>(*table);
  ServiceConfig* config = nullptr;
  for (auto& c : next->services)
    if (c.id == id) config = &c;
  ServiceConfig fresh;
  if (!config) {
    fresh.id = id;
    fresh.redactor = std::make_shared<redact::Redactor>(base_redactor);
    config = &fresh;
  }
  std::optional<std::optional<Mode>> new_override;
  std::optional<std::vector<std::string>> new_redact;
  if (auto it = body.find("upstream"); it != body.end()) {
    if (it->is_null()) config->upstream.reset();
    else {
      auto url = it->is_string() ? http::parse_url(it->get<std::string>()) : std::nullopt;
      if (!url) throw HttpError(400, "upstream: expected an http:// or https:// URL");
      config->upstream = *url;
    }
  }
  if (auto it = body.find("route"); it != body.end()) {
    if (it->is_null()) config->route.reset();
    else if (!it->is_string()) throw HttpError(400, "route: expected HOST or /PREFIX");
    else {
      Route route = parse_route_match(it->get<std::string>(), id);
      for (const auto& other : next->services)
        if (other.id != id && other.route && other.route->match == route.match)
          throw HttpError(409, "route '" + route.match + "' already belongs to service '" + other.id + "'");
      config->route = route;
    }
  }
  if (auto it = body.find("redact_headers"); it != body.end()) {
    if (!it->is_array()) throw HttpError(400, "redact_headers: expected an array of header names");
    std::vector<std::string> names;
    for (const auto& name : *it) {
      if (!name.is_string() || !record::is_token(name.get<std::string>()))
        throw HttpError(400, "redact_headers: expected header names (strings), got " + name.dump().substr(0, 60));
      names.push_back(util::to_lower(name.get<std::string>()));
    }
    new_redact = names;
    auto redactor = std::make_shared<redact::Redactor>(base_redactor);
    for (const auto& name : names) redactor->add(name);
    config->extra_redact = std::move(names);
    config->redactor = std::move(redactor);
  }
  if (auto it = body.find("mode"); it != body.end()) {
    if (it->is_null()) new_override = std::optional<Mode>{};
    else {
      auto mode = it->is_string() ? store::parse_settable_mode(it->get<std::string>()) : std::nullopt;
      if (!mode) throw HttpError(400, "mode: expected " + std::string(store::kSettableModes) + " or null");
      new_override = mode;
    }
  }
  std::optional<std::optional<ChaosSpec>> new_chaos;
  if (auto it = body.find("chaos"); it != body.end()) {
    try {
      new_chaos = it->is_null() ? std::optional<ChaosSpec>{} : std::optional<ChaosSpec>{parse_chaos(*it)};
    } catch (const ChaosError& e) {
      throw HttpError(400, e.message());
    }
  }
  // Stored before anything changes, so a restart keeps it; library.db is created for it if this
  // is the first thing ever stored. When it cannot be stored the call fails and nothing changes.
  bool store_settings = (new_override || new_redact) && !options.fixed_mode;
  if (store_settings || new_chaos) {
    try {
      data.ensure();
      store::LibraryDb db(data.library());
      store::sql::Transaction write(db.handle());
      if (store_settings && new_override)
        db.set_service_mode(id, *new_override ? std::optional<std::string>(std::string(store::to_string(**new_override)))
                                              : std::nullopt);
      if (store_settings && new_redact) db.set_service_redact_headers(id, *new_redact);
      if (new_chaos)
        db.set_service_chaos(id, *new_chaos ? std::optional<std::string>(to_json(**new_chaos).dump()) : std::nullopt);
      write.commit();
    } catch (const std::exception& e) {
      spdlog::error("service {}: settings not stored in {}: {}", id, data.library().name(), e.what());
      bool down = dynamic_cast<const store::sql::UnavailableError*>(&e) != nullptr;
      throw HttpError(down ? 503 : 500, "service '" + id + "' not changed: cannot store its settings in " +
                               data.library().name() + ": " + e.what());
    }
  }
  // A new chaos config starts its sequence at 0.
  if (new_chaos) config->chaos = *new_chaos ? std::make_shared<Chaos>(**new_chaos) : nullptr;
  bool created = config == &fresh;
  if (created) {
    // state_for takes states_mutex, never table_mutex, so holding table_mutex here is safe.
    fresh.state = &state_for(id);
    next->services.push_back(std::move(fresh));
    config = &next->services.back();
  }
  index_routes(*next);
  ServiceState& state = *config->state;
  json described = describe_service(*config);
  table = next;
  generation.fetch_add(1, std::memory_order_release);
  if (new_override) {
    set_override(state, *new_override);
    described["mode"] = store::to_string(effective(state));
    described["mode_override"] = *new_override ? json(store::to_string(**new_override)) : json();
  }
  return reply_json(created ? 201 : 200, described);
}

} // namespace gostly::serve
