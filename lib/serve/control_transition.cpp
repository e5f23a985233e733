// Control API, transitions: POST /v1/transition {"action": begin | end | abort | run}. A
// transition puts every service in TRANSITIONING (503 + Retry-After) while library.db is
// rebuilt, by an outside gostly-transition (begin ... end) or by this server (run: a
// gostly-transition child under the work budget, see worker.hpp). Routes and limits: control.cpp.
#include "serve/control.hpp"
#include "serve/engine_impl.hpp"

#include <spdlog/spdlog.h>

namespace gostly::serve {

using namespace control;
using store::Mode;

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
  if (reload) reload_all(ReloadTrigger::control);
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

std::string Engine::Impl::transition_post(const ControlCall& call) {
  json body = parse_body(call.request);
  std::string action = string_field(body, "action").value_or("");
  std::optional<Mode> mode;
  if (auto text = string_field(body, "mode")) {
    mode = store::parse_mode(*text);
    if (!mode || *mode == Mode::transitioning) throw HttpError(400, "mode: expected LEARN, MOCK or PASSTHROUGH");
  }
  // A day at most: far beyond any rebuild, and far from overflowing the clock.
  auto timeout = options.transition_timeout;
  if (auto seconds = unsigned_field(body, "timeout_s", 86400)) timeout = std::chrono::seconds(*seconds);

  if (action == "begin") {
    begin_transition(timeout);
    return reply_json(200, json{{"mode", "TRANSITIONING"}, {"reverts_after_s", timeout.count()}});
  }
  if (action == "end" || action == "abort") {
    if (!transition_active()) throw HttpError(409, "no transition is running");
    {
      std::lock_guard lock(transition_mutex);
      if (transition_thread.joinable()) throw HttpError(409, "a transition run is in progress");
    }
    end_transition(mode, action == "end");
    return reply_json(200, json{{"mode", store::to_string(static_cast<Mode>(global_mode.load()))},
                                {"reloaded", action == "end"}});
  }
  if (action == "run") {
    if (!options.run_transition) throw HttpError(501, "this server cannot run transitions itself; run gostly-transition");
    std::lock_guard lock(transition_mutex);
    if (transition_thread.joinable() && !transition_active()) transition_thread.join(); // finished
    if (transition_thread.joinable() || transition_active()) throw HttpError(409, "a transition is already running");
    transition_return = static_cast<Mode>(global_mode.load());
    transition_deadline = Clock::now() + timeout;
    set_global(Mode::transitioning, false);
    transition_thread = std::thread([this, mode] {
      bool ok = true;
      try {
        options.run_transition();
      } catch (const std::exception& e) {
        ok = false;
        spdlog::error("transition run failed: {}", e.what());
        std::lock_guard error_lock(transition_mutex);
        transition_last_error = e.what();
      }
      end_transition(ok ? mode : std::nullopt, ok);
    });
    return reply_json(202, json{{"mode", "TRANSITIONING"}, {"running", true}});
  }
  throw HttpError(400, "action: expected begin, end, abort or run");
}

} // namespace gostly::serve
