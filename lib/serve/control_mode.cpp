// Control API, the global mode and the engine's health: GET /healthz, GET|POST /v1/mode,
// POST /v1/mocks/reset-cursors, GET /metrics. Routes and limits: control.cpp.
#include "http/message.hpp"
#include "serve/control.hpp"
#include "serve/engine_impl.hpp"

#include <spdlog/spdlog.h>

namespace gostly::serve {

using namespace control;
using store::Mode;

// 200 whatever the store's state: /healthz is what load balancers and orchestrators probe, and
// a store that is down does not stop MOCK answering from the library in memory, so taking the
// instance out of rotation (or restarting it, losing that library) would turn a degraded store
// into an outage. The `store` object says how the store is doing, for people and alerts.
std::string Engine::Impl::healthz(const ControlCall&) {
  return reply_json(200, json{{"status", "ok"},
                              {"mode", store::to_string(static_cast<Mode>(global_mode.load()))},
                              {"store", store_json()}});
}

json Engine::Impl::store_json() const {
  auto s = store_health.snapshot();
  return json{{"engine", s.engine},
              {"name", s.name},
              {"connected", s.connected},
              {"listening", s.listening},
              {"last_error", s.last_error.empty() ? json() : json(s.last_error)},
              {"last_reload_at", s.last_reload_at.empty() ? json() : json(s.last_reload_at)},
              {"reconnects", s.reconnects}};
}

std::string Engine::Impl::mode_get(const ControlCall&) {
  json services = json::object();
  std::lock_guard lock(states_mutex);
  for (const auto& [id, state] : states) {
    int override_mode = state->mode_override.load();
    services[id] = {{"mode", store::to_string(effective(*state))},
                    {"override", override_mode >= 0 ? json(store::to_string(static_cast<Mode>(override_mode))) : json()}};
  }
  return reply_json(200, json{{"mode", store::to_string(static_cast<Mode>(global_mode.load()))}, {"services", services}});
}

std::string Engine::Impl::mode_post(const ControlCall& call) {
  json body = parse_body(call.request);
  auto text = string_field(body, "mode");
  if (!text) throw HttpError(400, "mode: expected a string: LEARN, MOCK or PASSTHROUGH");
  auto mode = store::parse_mode(*text);
  if (!mode) throw HttpError(400, "mode: expected LEARN, MOCK or PASSTHROUGH");
  if (*mode == Mode::transitioning) throw HttpError(400, "mode: use POST /v1/transition to enter TRANSITIONING");
  if (transition_active()) throw HttpError(409, "a transition is running; end or abort it first");
  Mode previous = static_cast<Mode>(global_mode.load());
  // mode.txt first: a change that cannot be persisted would silently be undone by a restart, so
  // it is refused and the mode stays as it was.
  try {
    data.write_mode(*mode);
  } catch (const std::exception& e) {
    metrics.count_io_error(IoOperation::mode_file);
    spdlog::error("cannot write {}: {}", data.mode_file().string(), e.what());
    throw HttpError(500, "mode not changed: cannot write " + data.mode_file().string() + ": " + e.what());
  }
  remember_mode_file();
  set_global(*mode, false);
  return reply_json(200, json{{"mode", store::to_string(*mode)}, {"previous", store::to_string(previous)}});
}

std::string Engine::Impl::metrics_get(const ControlCall&) {
  record::Response response;
  response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  response.body = metrics.render(library_sizes()) + store_health.prometheus() + drift_prometheus();
  return http::serialize_response(response, {}, http::BodyMode::send, http::Close::no);
}

std::string Engine::Impl::reset_cursors(const ControlCall& call) {
  auto only = query_service(call.request.uri, std::nullopt);
  std::size_t count = 0;
  std::lock_guard lock(states_mutex);
  for (auto& [id, state] : states)
    if (!only || id == *only) {
      state->matcher.reset_cursors();
      ++count;
    }
  if (only && count == 0) throw HttpError(404, "unknown service '" + *only + "'");
  return reply_json(200, json{{"reset", count}});
}

} // namespace gostly::serve
