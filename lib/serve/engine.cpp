// The engine decides what each proxied request gets, per service and mode.
//
// Hot path. A request finds its service through a routing table that is immutable once
// published: readers keep a thread-local copy and compare one atomic generation number per
// request, so routing takes no lock and shares no written cache line. Modes are atomics. In MOCK
// the matcher (thread-safe, lock-free match()) returns pre-serialized bytes that go out with one
// write. Nothing on that path logs at info level or allocates beyond the parser's request.
//
// LEARN. The request is forwarded; the answer is turned into an interaction, its unredacted copy
// goes to the matcher's session buffer (RAM only, so the session-verbatim tier can replay it with
// credentials), and the redacted copy (floor + REDACT_HEADERS + per-service rules) is written with
// one write() per line before the client gets its reply, so a line is on disk once the client
// has seen the answer. A streamed answer (a body still arriving after its head, see
// lib/http/upstream_call.cpp) is recorded when its body is complete, before the client gets the
// last piece, or when it is cut. A disk error is counted and logged; the client still gets its
// answer.
//
// Modes. The effective mode of a service is TRANSITIONING while a transition runs, otherwise its
// own override when it has one, otherwise the global mode. Entering MOCK resets replay cursors;
// entering LEARN opens a new session (new id, empty session buffer). mode.txt is polled by
// tick(): its mtime, size and inode are compared, so an edit (or an atomic rename over it) is
// applied within one tick.
#include "serve/engine.hpp"

#include "http/message.hpp"
#include "match/matcher.hpp"
#include "record/codec.hpp"
#include "redact/redact.hpp"
#include "serve/engine_impl.hpp"
#include "store/data_dir.hpp"
#include "store/library_db.hpp"
#include "tls/authority.hpp"
#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/limits.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace gostly::serve {

using store::Mode;

namespace {

std::string service_id_from(std::string_view text) {
  std::string id;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    id.push_back(ok ? c : '-');
  }
  while (!id.empty() && (id.front() == '-' || id.front() == '.')) id.erase(id.begin());
  while (!id.empty() && id.back() == '-') id.pop_back();
  if (id.size() > 128) id.resize(128);
  return id;
}

std::string_view host_without_port(std::string_view host) noexcept {
  if (!host.empty() && host.front() == '[') return host.substr(0, host.find(']') + 1);
  auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool prefix_matches(std::string_view uri, std::string_view prefix) noexcept {
  if (!uri.starts_with(prefix)) return false;
  return uri.size() == prefix.size() || uri[prefix.size()] == '/' || uri[prefix.size()] == '?';
}

std::shared_ptr<const std::string> prepare(const record::Response& response, match::Tier tier) {
  return std::make_shared<const std::string>(
      http::serialize_response(response, {{"X-Ghost-Mock", std::string(match::header_value(tier))}}));
}

MatchType match_type(match::Tier tier) noexcept {
  switch (tier) {
  case match::Tier::session_verbatim: return MatchType::session_verbatim;
  case match::Tier::exact: return MatchType::exact;
  case match::Tier::normalized: return MatchType::normalized;
  case match::Tier::resource_store: return MatchType::resource_store;
  case match::Tier::resource_transition: return MatchType::resource_transition;
  case match::Tier::smart_swap: return MatchType::smart_swap;
  case match::Tier::miss: break;
  }
  return MatchType::miss;
}

} // namespace

Route parse_route_match(std::string_view match, const std::string& service_id) {
  Route route;
  if (match.empty()) throw UsageError("route: empty match (expected HOST or /PREFIX)");
  if (match.front() == '/') {
    route.kind = Route::Kind::path_prefix;
    while (match.size() > 1 && match.back() == '/') match.remove_suffix(1);
    if (match == "/") throw UsageError("route '/': use --upstream for the default service");
    route.match = std::string(match);
  } else {
    route.kind = Route::Kind::host;
    if (match.find_first_of("/ ") != std::string_view::npos) throw UsageError("route host '" + std::string(match) + "': not a host name");
    route.match = util::to_lower(host_without_port(match));
  }
  route.service_id = service_id.empty() ? service_id_from(route.kind == Route::Kind::host ? route.match : route.match.substr(1))
                                        : service_id;
  util::require_safe_id(route.service_id, "route service id");
  return route;
}

Route parse_route(std::string_view spec) {
  auto eq = spec.find('=');
  if (eq == std::string_view::npos) throw UsageError("--route '" + std::string(spec) + "': expected HOST=URL or /PREFIX=URL");
  Route route = parse_route_match(spec.substr(0, eq), {});
  auto url = http::parse_url(spec.substr(eq + 1));
  if (!url) throw UsageError("--route '" + std::string(spec) + "': upstream must be an http:// or https:// URL");
  route.upstream = *url;
  return route;
}

bool keys_equal(std::string_view given, std::string_view expected) noexcept {
  // Compare digests so neither the length nor the first differing byte shows in the timing.
  std::string a = util::sha256_hex(given), b = util::sha256_hex(expected);
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0 && a.size() == b.size();
}

// ---- Impl ----

Engine::Impl::Impl(EngineOptions opts)
    : options(std::move(opts)), data(options.data_dir, options.store),
      session_budget(std::make_shared<match::SessionBudget>(options.session_buffer_max)) {
  metrics.set_session_buffer_source([budget = session_budget] {
    return SessionBufferStats{budget->bytes(), budget->max_bytes(), budget->evictions()};
  });
  base_redactor = redact::Redactor::from_environment();
  for (const auto& name : options.redact_headers) base_redactor.add(name);
  auto table_ptr = std::make_shared<Table>();
  auto& def = state_for(options.default_service);
  table_ptr->services.push_back({options.default_service, options.upstream, std::nullopt, {},
                                 std::make_shared<redact::Redactor>(base_redactor), &def});
  table_ptr->default_index = 0;
  for (const auto& route : options.routes) {
    auto& state = state_for(route.service_id);
    auto existing = std::find_if(table_ptr->services.begin(), table_ptr->services.end(),
                                 [&](const ServiceConfig& s) { return s.id == route.service_id; });
    if (existing != table_ptr->services.end())
      throw UsageError("--route: two routes give service '" + route.service_id + "'");
    table_ptr->services.push_back({route.service_id, route.upstream, route, {}, std::make_shared<redact::Redactor>(base_redactor), &state});
  }
  for (const auto& [id, spec] : options.chaos) {
    util::require_safe_id(id, "--chaos service");
    service_in(*table_ptr, id).chaos = std::make_shared<Chaos>(spec);
  }
  index_routes(*table_ptr);
  table = std::move(table_ptr);
  generation.store(1);
}

ServiceState& Engine::Impl::state_for(const std::string& id) {
  std::lock_guard lock(states_mutex);
  auto& slot = states[id];
  if (!slot) {
    slot = std::make_unique<ServiceState>(&prepare, session_budget);
    slot->id = id;
    slot->session_id = options.session_id.empty() ? util::random_id("sess", true) : options.session_id;
  }
  return *slot;
}

void Engine::Impl::index_routes(Table& t) {
  t.host_routes.clear();
  t.prefix_routes.clear();
  t.host_services.clear();
  for (std::size_t i = 0; i < t.services.size(); ++i) {
    // The default service needs no entry: a host that names nothing gets it anyway, and a
    // server with one service then pays nothing for hosts as services.
    if (i != t.default_index) {
      const std::string& id = t.services[i].id;
      t.host_services.emplace(id, i);
      auto dash = id.find_last_not_of("0123456789");
      t.ids_with_port |= dash != std::string::npos && dash + 1 < id.size() && id[dash] == '-';
    }
    const auto& route = t.services[i].route;
    if (!route) continue;
    if (route->kind == Route::Kind::host) t.host_routes.emplace_back(route->match, i);
    else t.prefix_routes.emplace_back(route->match, i);
  }
  std::sort(t.prefix_routes.begin(), t.prefix_routes.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

const Table& Engine::Impl::current_table() const {
  thread_local const Impl* owner = nullptr;
  thread_local std::uint64_t seen = 0;
  thread_local std::shared_ptr<const Table> cached;
  auto now = generation.load(std::memory_order_acquire);
  if (owner != this || seen != now) {
    std::lock_guard lock(table_mutex);
    cached = table;
    seen = generation.load(std::memory_order_relaxed);
    owner = this;
  }
  return *cached;
}

void Engine::Impl::publish(std::shared_ptr<const Table> next) {
  std::lock_guard lock(table_mutex);
  table = std::move(next);
  generation.fetch_add(1, std::memory_order_release);
}

namespace {
// Hosts as services: the service whose id the host gives (util::host_service_id, the id
// gostly-seed files a HAR host under), compared in lower case. `api.example.com:8443` names
// `api.example.com-8443` when there is one, else `api.example.com`: an id with a port is that
// port's alone, one without takes every port (`:443` of an https URL, the port a client pointed
// at the proxy uses). One hash lookup on a stack buffer (two when some id has a port): no
// allocation.
const ServiceConfig* service_named_by(const Table& t, std::string_view host) noexcept {
  std::array<char, 128> buffer;
  std::string_view bare = host_without_port(host);
  std::string_view id;
  if (t.ids_with_port || bare.size() == host.size()) {
    id = util::host_service_id(host, buffer);
    if (auto it = t.host_services.find(id); it != t.host_services.end()) return &t.services[it->second];
    if (bare.size() == host.size()) return nullptr;
  }
  id = util::host_service_id(bare, buffer);
  if (auto it = t.host_services.find(id); it != t.host_services.end()) return &t.services[it->second];
  return nullptr;
}
} // namespace

const ServiceConfig& Engine::Impl::route(const record::Request& request, bool* by_host, bool* by_host_service) const {
  const Table& t = current_table();
  if (!t.host_routes.empty() && !request.host.empty()) {
    std::string host = util::to_lower(host_without_port(request.host));
    for (const auto& [match, index] : t.host_routes)
      if (match == host) {
        if (by_host) *by_host = true;
        return t.services[index];
      }
  }
  for (const auto& [prefix, index] : t.prefix_routes)
    if (prefix_matches(request.uri, prefix)) return t.services[index];
  if (!t.host_services.empty() && !request.host.empty()) {
    if (const ServiceConfig* named = service_named_by(t, request.host)) {
      if (by_host) *by_host = named->upstream.has_value();
      if (by_host_service) *by_host_service = true;
      return *named;
    }
  }
  return t.services[t.default_index];
}

std::optional<http::Url> Engine::Impl::upstream_for(const ServiceConfig& config, bool by_host, bool by_host_service,
                                                    const record::Request& request,
                                                    const http::Responder& responder) const {
  // A client that named the API (HTTP_PROXY, CONNECT) goes there, unless the service's own
  // upstream says otherwise; one that was pointed here goes to the service's upstream, and a
  // service its Host named without an upstream of its own to where such requests went before
  // hosts were services: the default service's.
  if (names_api(request, responder) && !by_host) return http::parse_url(request.scheme + "://" + request.host);
  if (!config.upstream && by_host_service) return current_table().services[current_table().default_index].upstream;
  return config.upstream;
}

ServiceConfig& Engine::Impl::service_in(Table& t, const std::string& id) {
  auto found = std::find_if(t.services.begin(), t.services.end(), [&](const ServiceConfig& c) { return c.id == id; });
  if (found != t.services.end()) return *found;
  return t.services.emplace_back(
      ServiceConfig{id, std::nullopt, std::nullopt, {}, std::make_shared<redact::Redactor>(base_redactor), &state_for(id)});
}

void Engine::Impl::adopt_services(const std::vector<std::string>& ids, const std::map<std::string, ChaosSpec>* chaos) {
  std::lock_guard lock(table_mutex);
  auto next = std::make_shared<Table>(*table);
  bool changed = false;
  for (const auto& id : ids) {
    std::size_t before = next->services.size();
    service_in(*next, id); // state_for takes states_mutex, never table_mutex: safe under table_mutex
    changed |= next->services.size() != before;
  }
  for (auto& config : next->services) {
    if (!chaos || std::any_of(options.chaos.begin(), options.chaos.end(), [&](const auto& c) { return c.first == config.id; }))
      continue; // --chaos wins for this run
    auto it = chaos->find(config.id);
    if (it == chaos->end() ? !config.chaos : config.chaos && config.chaos->spec() == it->second)
      continue; // an unchanged config keeps its counter (and so its sequence) going
    config.chaos = it == chaos->end() ? nullptr : std::make_shared<Chaos>(it->second);
    changed = true;
  }
  if (!changed) return;
  index_routes(*next);
  table = std::move(next);
  generation.fetch_add(1, std::memory_order_release);
}

Mode Engine::Impl::effective(const ServiceState& state) const noexcept {
  auto global = static_cast<Mode>(global_mode.load(std::memory_order_acquire));
  if (global == Mode::transitioning) return global;
  int override_mode = state.mode_override.load(std::memory_order_acquire);
  return override_mode >= 0 ? static_cast<Mode>(override_mode) : global;
}

void Engine::Impl::entered(ServiceState& state, Mode from, Mode to) {
  if (from == to) return;
  if (to == Mode::mock) state.matcher.reset_cursors();
  if (to == Mode::learn && !options.fixed_mode) {
    std::lock_guard lock(state.session_mutex);
    state.session_id = util::random_id("sess", true);
    state.matcher.session_clear();
  }
}

void Engine::Impl::set_global(Mode mode, bool persist) {
  std::vector<std::pair<ServiceState*, Mode>> before;
  {
    std::lock_guard lock(states_mutex);
    for (auto& [id, state] : states) before.emplace_back(state.get(), effective(*state));
  }
  auto old = static_cast<Mode>(global_mode.exchange(static_cast<int>(mode)));
  for (auto& [state, was] : before) entered(*state, was, effective(*state));
  if (old != mode) spdlog::info("global mode {} -> {}", store::to_string(old), store::to_string(mode));
  if (persist && !options.fixed_mode) {
    try {
      data.write_mode(mode);
      remember_mode_file();
    } catch (const std::exception& e) {
      metrics.count_io_error(IoOperation::mode_file);
      spdlog::warn("cannot write {}: {}", data.mode_file().string(), e.what());
    }
  }
}

void Engine::Impl::set_override(ServiceState& state, std::optional<Mode> mode) {
  Mode was = effective(state);
  state.mode_override.store(mode ? static_cast<int>(*mode) : -1, std::memory_order_release);
  entered(state, was, effective(state));
}

void Engine::Impl::remember_mode_file() { mode_file_stamp = FileStamp::of(data.mode_file()).value_or(FileStamp{}); }

void Engine::Impl::poll_mode_file() {
  auto stamped = FileStamp::of(data.mode_file());
  if (!stamped) return;
  FileStamp now = *stamped;
  if (now == mode_file_stamp) return;
  // `echo MOCK > mode.txt` truncates before it writes: an empty file is looked at again on the
  // next ticks and only refused once it has stayed empty for a second.
  if (now.size == 0) {
    auto at = Clock::now();
    if (mode_file_empty_since == Clock::time_point{}) mode_file_empty_since = at;
    if (at - mode_file_empty_since < std::chrono::seconds(1)) return;
  }
  mode_file_empty_since = {};
  mode_file_stamp = now;
  try {
    auto mode = data.read_mode();
    if (!mode) return;
    if (transition_active()) {
      spdlog::info("mode.txt says {}; applied when the transition ends", store::to_string(*mode));
      std::lock_guard lock(transition_mutex);
      transition_return = *mode;
      return;
    }
    if (*mode != static_cast<Mode>(global_mode.load())) {
      spdlog::info("mode.txt changed to {}", store::to_string(*mode));
      set_global(*mode, false);
    }
  } catch (const InputError& e) {
    // Not a mode a user sets (TRANSITIONING, a typo): the mode stays, and mode.txt is written
    // back with it so the file says what the server does, unless it changed again meanwhile.
    Mode keep = static_cast<Mode>(global_mode.load());
    if (keep == Mode::transitioning) {
      std::lock_guard lock(transition_mutex);
      keep = transition_return;
    }
    spdlog::warn("ignoring {}; keeping {} and writing it back", e.what(), store::to_string(keep));
    if (FileStamp::of(data.mode_file()) != now) return;
    try {
      data.write_mode(keep);
      remember_mode_file();
    } catch (const std::exception& write_error) {
      metrics.count_io_error(IoOperation::mode_file);
      spdlog::warn("{}", write_error.what());
    }
  } catch (const std::exception& e) {
    metrics.count_io_error(IoOperation::mode_file);
    spdlog::warn("ignoring mode.txt: {}", e.what());
  }
}

util::AppendLog& Engine::Impl::traffic_log(ServiceState& state) {
  if (!state.log) {
    data.ensure();
    state.log = std::make_unique<util::AppendLog>(data.traffic_file(state.id));
    if (state.log->torn_bytes_dropped())
      spdlog::warn("{}: dropped a torn last line ({} bytes) left by a crash", state.log->path().string(),
                   state.log->torn_bytes_dropped());
  }
  return *state.log;
}

void Engine::Impl::record(ServiceState& state, const redact::Redactor& redactor, record::Interaction&& interaction) {
  if (!options.fixed_mode) state.matcher.session_add(interaction);
  redactor.apply(interaction);
  try {
    if (options.sink) {
      options.sink(interaction);
      return;
    }
    std::string line = record::encode_line(interaction);
    std::lock_guard lock(state.log_mutex);
    traffic_log(state).append_line(line);
  } catch (const std::exception& e) {
    metrics.count_io_error(options.sink ? IoOperation::record_output : IoOperation::traffic_append);
    spdlog::warn("recording {} {} failed: {}", interaction.request.method, interaction.request.uri, e.what());
  }
}

std::string Engine::Impl::current_session(ServiceState& state) {
  std::lock_guard lock(state.session_mutex);
  return state.session_id;
}

record::Interaction Engine::Impl::learned_interaction(ServiceState& state, const std::string& service_id,
                                                      const std::string& recorded_at, double duration_ms) {
  record::Interaction interaction;
  interaction.id = util::random_id("int");
  interaction.service_id = service_id;
  interaction.session_id = current_session(state);
  interaction.source = "learn";
  interaction.recorded_at = recorded_at;
  interaction.duration_ms = duration_ms;
  return interaction;
}

nlohmann::json Engine::Impl::event_record(ServiceState& state, std::string_view type, std::string_view id_prefix,
                                          const std::string& service_id) {
  return nlohmann::json{{"v", record::kRecordVersion},
                        {"type", type},
                        {"id", util::random_id(std::string(id_prefix))},
                        {"service_id", service_id},
                        {"session_id", current_session(state)}};
}

void Engine::Impl::record_line(ServiceState& state, const std::string& line) {
  try {
    if (options.line_sink) return options.line_sink(line);
    std::lock_guard lock(state.log_mutex);
    traffic_log(state).append_line(line);
  } catch (const std::exception& e) {
    metrics.count_io_error(options.line_sink ? IoOperation::record_output : IoOperation::traffic_append);
    spdlog::warn("recording a {} record failed: {}", line.substr(0, 40), e.what());
  }
}

namespace {
// What one worker thread recorded in the current event-loop turn (a connection never leaves its
// worker, so a thread-local batch needs no lock).
struct TurnBatch {
  std::vector<std::pair<ServiceState*, std::string>> lines; // per service, whole lines
  std::vector<std::pair<http::Responder, std::string>> replies;
  bool scheduled = false;
};
thread_local TurnBatch turn_batch;
} // namespace

void Engine::Impl::record_in_turn(ServiceState& state, const redact::Redactor& redactor,
                                  record::Interaction&& interaction, http::Responder responder, std::string reply) {
  if (!options.fixed_mode) state.matcher.session_add(interaction);
  redactor.apply(interaction);
  auto& batch = turn_batch;
  auto it = std::find_if(batch.lines.begin(), batch.lines.end(), [&](const auto& p) { return p.first == &state; });
  if (it == batch.lines.end()) it = batch.lines.emplace(batch.lines.end(), &state, std::string());
  record::append_line(it->second, interaction);
  it->second += '\n';
  batch.replies.emplace_back(responder, std::move(reply));
  if (!batch.scheduled) {
    batch.scheduled = true;
    responder.defer([this] { commit_turn(); });
  }
}

void Engine::Impl::commit_turn() {
  auto& batch = turn_batch;
  // Lines reach the disk before any client of this turn sees its answer.
  for (auto& [state, lines] : batch.lines) {
    try {
      std::lock_guard lock(state->log_mutex);
      traffic_log(*state).append_lines(lines);
    } catch (const std::exception& e) {
      metrics.count_io_error(IoOperation::traffic_append);
      spdlog::warn("recording to traffic/{}.jsonl failed: {}", state->id, e.what());
    }
  }
  batch.lines.clear();
  auto replies = std::move(batch.replies);
  batch.replies.clear();
  batch.scheduled = false;
  for (auto& [responder, reply] : replies) responder.send(std::move(reply));
}

namespace {
// A streamed answer has been sent already; one the upstream cut is worth a line in the log
// (a client that hangs up mid-stream, an SSE reader giving up, is ordinary).
void note_stream_end(const http::UpstreamResult& result, const record::Request& request) {
  if (result.truncated_by == "upstream")
    spdlog::warn("{} {}: the upstream cut the stream after {} body bytes: {}", request.method, request.uri,
                 result.body_bytes, result.detail);
}
} // namespace

void Engine::Impl::forward(const ServiceConfig& config, std::optional<http::Url> upstream_url, record::Request& request,
                           http::Responder responder, bool learn, Clock::time_point started) {
  if (!upstream_url) {
    metrics.count_request(learn ? MatchType::learn : MatchType::passthrough);
    responder.send(http::json_response(
        502, nlohmann::json{{"error", "no upstream configured"}, {"service", config.id},
                            {"hint", "start with --upstream URL, a --route, or PUT /services/" + config.id + " {\"upstream\":...}"}}
                 .dump()));
    return;
  }
  auto pending = std::make_shared<record::Request>(std::move(request));
  http::strip_hop_by_hop(pending->headers);
  std::string recorded_at = util::now_iso8601();
  ServiceState* state = config.state;
  auto redactor = config.redactor;
  auto upstream = std::make_shared<const http::Url>(std::move(*upstream_url));
  auto service_id = config.id;
  responder.forward(*upstream, *pending,
                    [this, pending, responder, learn, started, state, redactor, upstream, service_id,
                     recorded_at = std::move(recorded_at)](http::UpstreamResult&& result) mutable {
                      metrics.count_request(learn ? MatchType::learn : MatchType::passthrough);
                      if (result.failure != http::UpstreamFailure::none) {
                        spdlog::warn("{} {}: {}", pending->method, pending->uri, result.detail);
                        responder.send(http::upstream_failure_response(result, upstream->to_string()));
                        metrics.observe_latency(Clock::now() - started);
                        return;
                      }
                      if (learn) {
                        record::Interaction interaction =
                            learned_interaction(*state, service_id, recorded_at, result.duration_ms);
                        interaction.request = std::move(*pending);
                        // A client pointed at the proxy only named the proxy: record where the
                        // request really went. A forward-proxy client named the API itself.
                        if (!names_api(interaction.request, responder)) {
                          interaction.request.scheme = upstream->scheme;
                          interaction.request.host = upstream->authority();
                        }
                        interaction.response = std::move(result.response);
                        if (result.streamed) {
                          // The stream was the reply; the record says what its body misses, if anything.
                          note_stream_end(result, interaction.request);
                          if (!result.truncated_by.empty()) {
                            interaction.response.extra["body_truncated"] = true;
                            interaction.response.extra["truncated_by"] = result.truncated_by;
                            interaction.response.extra["body_bytes"] = result.body_bytes;
                          }
                          record(*state, *redactor, std::move(interaction));
                          metrics.observe_latency(Clock::now() - started);
                          return;
                        }
                        // The reply is sent from the unredacted response, so it is serialized
                        // before record() strips credentials from the interaction.
                        std::string reply = http::serialize_response(
                            interaction.response, {}, responder.head_request() ? http::BodyMode::head : http::BodyMode::send,
                            responder.closing() ? http::Close::yes : http::Close::no);
                        if (options.sink) {
                          record(*state, *redactor, std::move(interaction));
                          responder.send(std::move(reply));
                        } else {
                          record_in_turn(*state, *redactor, std::move(interaction), responder, std::move(reply));
                        }
                      } else if (result.streamed) {
                        note_stream_end(result, *pending);
                      } else {
                        responder.send(result.response);
                      }
                      metrics.observe_latency(Clock::now() - started);
                    });
}

bool Engine::Impl::transition_active() const {
  return static_cast<Mode>(global_mode.load(std::memory_order_acquire)) == Mode::transitioning;
}

std::vector<std::pair<std::string, std::uint64_t>> Engine::Impl::library_sizes() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  std::lock_guard lock(states_mutex);
  for (const auto& [id, state] : states) out.emplace_back(id, state->matcher.library_size());
  return out;
}

bool Engine::Impl::load_libraries(const std::vector<std::string>* only, store::LibraryDb* connection) {
  if (options.fixed_mode) return false;
  if (!data.library().exists()) {
    spdlog::info("no {} yet: every library is empty", data.library().name());
    return false;
  }
  try {
    // One reload at a time (start, control API, the watcher), so an older snapshot never
    // replaces a newer one; requests never take this lock.
    std::lock_guard reloading(reload_mutex);
    std::unique_ptr<store::LibraryDb> own;
    if (!connection) own = std::make_unique<store::LibraryDb>(data.library());
    store::LibraryDb& db = connection ? *connection : *own;
    // Read before the libraries: a change committed meanwhile moves the marker past this one,
    // so the watcher's next compare reloads again rather than missing it.
    std::string marker = db.change_marker();
    auto rows = db.services();
    std::vector<std::string> ids;
    // library.db holds each service's mode override (PUT /services/{id} stores it before it
    // applies it; a bundle import may bring one), so a reload applies what it says.
    for (const auto& row : rows) {
      auto& state = state_for(row.id);
      ids.push_back(row.id);
      auto stored = row.mode ? store::parse_settable_mode(*row.mode) : std::nullopt;
      if (state.mode_override.load() != (stored ? static_cast<int>(*stored) : -1)) set_override(state, stored);
    }
    apply_stored_redaction(rows);
    std::map<std::string, ChaosSpec> chaos;
    for (const auto& [id, text] : db.service_chaos()) {
      try {
        chaos[id] = parse_chaos(util::parse_json(text));
      } catch (const ChaosError& e) {
        spdlog::warn("service {}: ignoring the chaos config in {}: {}", id, data.library().name(), e.message());
      } catch (const std::exception& e) {
        spdlog::warn("service {}: ignoring the chaos config in {}: {}", id, data.library().name(), e.what());
      }
    }
    adopt_services(ids, &chaos);
    std::vector<ServiceState*> all;
    {
      std::lock_guard lock(states_mutex);
      for (auto& [id, state] : states) all.push_back(state.get());
    }
    for (auto* state : all) {
      if (only && std::find(only->begin(), only->end(), state->id) == only->end()) continue;
      state->matcher.load_library(db.load_library(state->id));
      spdlog::info("service {}: {} mocks loaded", state->id, state->matcher.library_size());
    }
    loaded_marker = std::move(marker);
    return true;
  } catch (const std::exception& e) {
    metrics.count_io_error(IoOperation::library_load);
    store_health.set_error(e.what());
    spdlog::error("cannot load {}: {}", data.library().name(), e.what());
    return false;
  }
}

bool Engine::Impl::reload_all(ReloadTrigger trigger, const std::vector<std::string>* only,
                              store::LibraryDb* connection) {
  if (!load_libraries(only, connection)) return false;
  store_health.note_reload(trigger);
  return true;
}

void Engine::Impl::apply_stored_redaction(const std::vector<store::ServiceRow>& rows) {
  std::lock_guard lock(table_mutex);
  std::shared_ptr<Table> next;
  for (const auto& row : rows) {
    const auto& services = next ? next->services : table->services;
    auto found = std::find_if(services.begin(), services.end(), [&](const ServiceConfig& c) { return c.id == row.id; });
    if (found != services.end() ? found->extra_redact == row.redact_headers : row.redact_headers.empty()) continue;
    if (!next) next = std::make_shared<Table>(*table);
    ServiceConfig& config = service_in(*next, row.id);
    auto redactor = std::make_shared<redact::Redactor>(base_redactor);
    for (const auto& name : row.redact_headers) redactor->add(name);
    config.extra_redact = row.redact_headers;
    config.redactor = std::move(redactor);
    spdlog::info("service {}: {} extra redacted header name(s) from library.db", row.id, row.redact_headers.size());
  }
  if (!next) return;
  index_routes(*next);
  table = std::move(next);
  generation.fetch_add(1, std::memory_order_release);
}

// ---- Engine ----

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto& o = impl_->options;
  Mode start = Mode::learn;
  if (o.fixed_mode) {
    start = o.start_mode.value_or(Mode::learn);
  } else if (o.start_mode) {
    start = *o.start_mode;
    impl_->data.ensure();
    impl_->data.write_mode(start);
  } else if (auto from_file = impl_->data.read_mode()) {
    start = *from_file;
  } else {
    // No mode.txt: the default is written to it, so the file always says the mode. Never over
    // a mode.txt a user wrote meanwhile: that one is read instead.
    try {
      if (!impl_->data.create_mode(start))
        if (auto written = impl_->data.read_mode()) start = *written;
    } catch (const InputError&) {
      throw;
    } catch (const std::exception& e) {
      impl_->metrics.count_io_error(IoOperation::mode_file);
      spdlog::warn("cannot write the default mode: {}", e.what());
    }
  }
  if (start == Mode::transitioning) start = Mode::learn; // a transition never survives a restart
  impl_->global_mode.store(static_cast<int>(start));
  if (!o.fixed_mode) impl_->remember_mode_file();
  impl_->self = this;
}

Engine::~Engine() {
  impl_->watcher.reset();
  impl_->join_transition_thread();
}

void Engine::watch_library() {
  auto& impl = *impl_;
  if (impl.options.fixed_mode || impl.watcher) return;
  ReloadTarget target;
  target.loaded_marker = [&impl] {
    std::lock_guard lock(impl.reload_mutex);
    return impl.loaded_marker;
  };
  target.reload_services = [&impl](const std::vector<std::string>& ids, store::LibraryDb* connection) {
    return impl.reload_all(ReloadTrigger::notify, &ids, connection);
  };
  target.reload_all = [&impl](store::LibraryDb* connection) {
    return impl.reload_all(ReloadTrigger::poll, nullptr, connection);
  };
  impl.watcher = LibraryWatcher::start(impl.data.library(), impl.store_health, std::move(target),
                                       WatchSettings::from_environment(impl.data.library().engine()));
}

Metrics& Engine::metrics() noexcept { return impl_->metrics; }
Mode Engine::global_mode() const noexcept { return static_cast<Mode>(impl_->global_mode.load()); }
void Engine::set_global_mode(Mode mode, bool persist) { impl_->set_global(mode, persist); }
void Engine::load_libraries() {
  if (impl_->load_libraries()) impl_->store_health.set_connected(true, false);
}

void Engine::Impl::note_miss(const std::string& service_id, const record::Request& request) {
  std::string what = request.method + " " + request.uri;
  if (service_id != options.default_service) what += " (service " + service_id + ")";
  std::lock_guard lock(missed_mutex);
  ++missed.total;
  auto& listed = missed.distinct;
  if (std::find(listed.begin(), listed.end(), what) != listed.end()) return;
  if (listed.size() < MissedRequests::kMaxListed) listed.push_back(std::move(what));
  else missed.more = true;
}

MissedRequests Engine::missed() const {
  std::lock_guard lock(impl_->missed_mutex);
  return impl_->missed;
}

Mode Engine::effective_mode(const std::string& service_id) const {
  return impl_->effective(impl_->state_for(service_id));
}

void Engine::tick() {
  if (impl_->options.fixed_mode) return;
  impl_->poll_mode_file();
  impl_->check_transition_deadline();
}

namespace {
// The HOST:PORT names a client may use for a listener bound at `bound_address`: loopback and
// wildcard listeners are reached under every loopback name.
std::vector<std::string> authorities_of(const std::string& bound_address) {
  auto colon = bound_address.rfind(':');
  if (colon == std::string::npos) return {};
  std::string host = util::to_lower(bound_address.substr(0, colon));
  std::string port = bound_address.substr(colon);
  std::vector<std::string> out{host + port};
  if (host.starts_with("127.") || host == "localhost" || host == "[::1]" || host == "0.0.0.0" || host == "[::]")
    for (const char* name : {"127.0.0.1", "localhost", "[::1]"}) out.push_back(name + port);
  return out;
}
} // namespace

void Engine::set_own_address(const std::string& bound_address) { impl_->own_authorities = authorities_of(bound_address); }

void Engine::set_control_address(const std::string& bound_address) {
  impl_->control_authorities = authorities_of(bound_address);
}

bool Engine::Impl::names_api(const record::Request& request, const http::Responder& responder) const {
  if (!responder.named_host()) return false;
  if (own_authorities.empty() || request.method == "CONNECT") return true;
  std::string host = util::to_lower(request.host);
  return std::find(own_authorities.begin(), own_authorities.end(), host) == own_authorities.end();
}

void Engine::handle(record::Request& request, http::Responder responder) {
  auto started = Clock::now();
  if (request.method == "CONNECT") return impl_->handle_connect(request, std::move(responder));
  const bool named = impl_->names_api(request, responder);
  // A client that sends everything through HTTP_PROXY (curl ignores ports in NO_PROXY) reaches
  // the control API here: answered in-process, never forwarded nor counted as traffic.
  if (named && !impl_->control_authorities.empty()) [[unlikely]] {
    const auto& control = impl_->control_authorities;
    if (std::any_of(control.begin(), control.end(), [&](const std::string& a) { return util::iequals(a, request.host); }))
      return handle_control(request, std::move(responder));
  }
  if (request.uri == "/ca.crt" && request.method == "GET" && !named) {
    if (!impl_->options.authority) {
      responder.send(http::json_response(
          503, R"j({"error":"TLS interception is off (ENABLE_TLS_INTERCEPTION): no CA certificate to serve"})j"));
      return;
    }
    record::Response pem;
    pem.headers = {{"Content-Type", "application/x-pem-file"},
                   {"Content-Disposition", "attachment; filename=\"gostly-ca.crt\""}};
    pem.body = impl_->options.authority->certificate_pem();
    responder.send(pem);
    return;
  }
  bool by_host = false, host_service = false;
  const ServiceConfig& config = impl_->route(request, &by_host, &host_service);
  ServiceState& state = *config.state;
  Mode mode = impl_->effective(state);
  if (mode != Mode::transitioning && http::is_websocket_upgrade(request)) [[unlikely]] {
    auto upstream = impl_->upstream_for(config, by_host, host_service, request, responder); // before the move below
    return impl_->handle_upgrade(config, std::move(upstream), mode, request, std::move(responder), started);
  }
  switch (mode) {
  case Mode::mock:
    if (config.chaos) [[unlikely]]
      return impl_->chaos_request(config, mode, std::nullopt, request, std::move(responder), started);
    return impl_->answer_mock(config, request, responder, started);
  case Mode::transitioning:
    impl_->metrics.count_request(MatchType::transitioning);
    responder.send(http::json_response(
        503, R"j({"error":"the mock library is being rebuilt (TRANSITIONING); retry shortly"})j", {{"Retry-After", "2"}}));
    impl_->metrics.observe_latency(Clock::now() - started);
    return;
  case Mode::learn:
  case Mode::passthrough: {
    std::optional<http::Url> upstream = impl_->upstream_for(config, by_host, host_service, request, responder);
    bool learn = impl_->effective(state) == Mode::learn;
    if (!learn && config.chaos) [[unlikely]] // never in LEARN: recordings stay faithful
      return impl_->chaos_request(config, Mode::passthrough, std::move(upstream), request, std::move(responder), started);
    return impl_->forward(config, std::move(upstream), request, std::move(responder), learn, started);
  }
  }
}

void Engine::Impl::answer_mock(const ServiceConfig& config, record::Request& request, http::Responder& responder,
                               Clock::time_point started) {
  match::Answer answer = config.state->matcher.match(request);
  metrics.count_request(match_type(answer.tier));
  if (answer.tier == match::Tier::miss && options.track_misses) [[unlikely]]
    note_miss(config.id, request);
  // A HEAD is answered from the response itself: prepared bytes carry the length of the body
  // they hold, and a recorded HEAD holds none, so its recorded Content-Length would be lost.
  if (answer.prepared && !responder.head_request()) {
    responder.send(std::move(answer.prepared));
  } else {
    record::Headers extra{{"X-Ghost-Mock", std::string(match::header_value(answer.tier))}};
    if (!answer.transition.empty()) extra.emplace_back("X-Ghost-Transition", answer.transition);
    responder.send(*answer.response, extra);
  }
  metrics.observe_latency(Clock::now() - started);
}

void Engine::Impl::chaos_request(const ServiceConfig& config, Mode mode, std::optional<http::Url> upstream,
                                 record::Request& request, http::Responder responder, Clock::time_point started) {
  ChaosDecision decision = config.chaos->next();
  if (decision.delay.count() == 0)
    return chaos_apply(config, decision.action, mode, std::move(upstream), request, std::move(responder), started);
  // The connection waits for its reply while its worker serves others; the request and the
  // service's config (the routing table may change meanwhile) are kept until the timer fires.
  auto held = std::make_shared<record::Request>(std::move(request));
  responder.after(decision.delay, [this, config, action = decision.action, mode, upstream = std::move(upstream), held,
                                   responder, started]() mutable {
    try {
      chaos_apply(config, action, mode, std::move(upstream), *held, responder, started);
    } catch (const std::exception& e) {
      spdlog::error("{} {} (after a chaos delay): {}", held->method, held->uri, e.what());
      responder.send(http::json_response(500, nlohmann::json{{"error", std::string("internal error: ") + e.what()}}.dump()));
    }
  });
}

void Engine::Impl::chaos_apply(const ServiceConfig& config, ChaosAction action, Mode mode,
                               std::optional<http::Url> upstream, record::Request& request, http::Responder responder,
                               Clock::time_point started) {
  switch (action) {
  case ChaosAction::drop:
    metrics.count_request(MatchType::chaos);
    responder.drop();
    break;
  case ChaosAction::error: {
    metrics.count_request(MatchType::chaos);
    record::Response error;
    error.status = config.chaos->spec().error_status;
    error.reason = std::string(http::reason_phrase(error.status));
    error.headers = {{"Content-Type", "application/json"}};
    error.body = nlohmann::json{{"error", "injected by the chaos config of this service"},
                                {"service", config.id},
                                {"status", error.status}}
                     .dump();
    responder.send(error, {{"X-Ghost-Mock", "chaos"}});
    break;
  }
  case ChaosAction::pass:
    if (mode == Mode::mock) return answer_mock(config, request, responder, started);
    return forward(config, std::move(upstream), request, std::move(responder), false, started);
  }
  metrics.observe_latency(Clock::now() - started);
}

namespace {
const char* opcode_name(std::uint8_t opcode) noexcept {
  switch (opcode) {
  case 0: return "continuation";
  case 1: return "text";
  case 2: return "binary";
  case 8: return "close";
  case 9: return "ping";
  case 10: return "pong";
  default: return "reserved";
  }
}
} // namespace

void Engine::Impl::handle_upgrade(const ServiceConfig& config, std::optional<http::Url> upstream, Mode mode,
                                  record::Request& request, http::Responder responder, Clock::time_point started) {
  if (mode == Mode::mock) {
    // A recorded 101 would leave the client waiting for frames nobody sends.
    metrics.count_request(MatchType::miss);
    if (options.track_misses) note_miss(config.id, request);
    responder.send(http::json_response(
        501, nlohmann::json{{"error", "WebSocket upgrades are relayed and recorded in LEARN and PASSTHROUGH, never "
                                      "replayed: MOCK cannot answer one"},
                            {"method", request.method},
                            {"uri", request.uri}}
                 .dump()));
    return;
  }
  const bool learn = mode == Mode::learn;
  if (!upstream) return forward(config, std::nullopt, request, std::move(responder), learn, started);
  // What the records name: the request as the client sent it, at the host it really went to.
  auto upgrade = std::make_shared<record::Request>(request);
  if (!responder.named_host()) {
    upgrade->scheme = upstream->scheme;
    upgrade->host = upstream->authority();
  }
  ServiceState* state = config.state;
  auto redactor = config.redactor;
  std::string service_id = config.id;
  std::string recorded_at = util::now_iso8601();
  std::string where = upstream->to_string();
  http::UpgradeHandlers handlers;
  handlers.answered = [this, upgrade, state, redactor, service_id, learn, started, where,
                       recorded_at = std::move(recorded_at)](const http::UpstreamResult& result) {
    metrics.count_request(learn ? MatchType::learn : MatchType::passthrough);
    metrics.observe_latency(Clock::now() - started);
    if (result.failure != http::UpstreamFailure::none) {
      spdlog::warn("{} {} (WebSocket upgrade): {}", upgrade->method, upgrade->uri, result.detail);
      return;
    }
    if (!learn) return;
    record::Interaction interaction = learned_interaction(*state, service_id, recorded_at, result.duration_ms);
    interaction.request = *upgrade;
    interaction.response = result.response;
    // The handshake is recorded so the library knows the route, but never joins the session
    // buffer: replaying a 101 would hang the client (gostly-transition skips it too).
    redactor->apply(interaction);
    try {
      if (options.sink) return options.sink(interaction);
    } catch (const std::exception& e) {
      metrics.count_io_error(IoOperation::record_output);
      spdlog::warn("recording {} {} failed: {}", interaction.request.method, interaction.request.uri, e.what());
      return;
    }
    record_line(*state, record::encode_line(interaction));
  };
  if (learn) {
    handlers.on_frame = [this, upgrade, state, service_id](const http::WebSocketFrame& frame) {
      nlohmann::json line = event_record(*state, "ws_frame", "wsf", service_id);
      line["method"] = upgrade->method;
      line["uri"] = upgrade->uri;
      line["scheme"] = upgrade->scheme;
      line["host"] = upgrade->host;
      line["direction"] = frame.from_client ? "client" : "server";
      line["opcode"] = opcode_name(frame.opcode);
      line["fin"] = frame.fin;
      line["length"] = frame.length;
      if (!frame.payload.empty()) {
        if ((frame.opcode == 1 || frame.opcode == 0) && util::is_valid_utf8(frame.payload)) line["text"] = frame.payload;
        else line["b64"] = util::base64_encode(frame.payload);
      }
      if (frame.compressed) line["compressed"] = true;
      if (frame.truncated) line["truncated"] = true;
      line["time"] = util::now_iso8601();
      record_line(*state, line.dump());
    };
  }
  handlers.done = [upgrade](const http::TunnelStats& stats) {
    if (!stats.error.empty()) spdlog::debug("WebSocket {} ended: {}", upgrade->uri, stats.error);
  };
  responder.relay_upgrade(*upstream, *upgrade, std::move(handlers));
}

void Engine::Impl::handle_connect(const record::Request& request, http::Responder responder) {
  if (!options.authority) {
    responder.send(http::json_response(
        501, R"j({"error":"CONNECT needs TLS interception, which is off: set ENABLE_TLS_INTERCEPTION=true"})j", {},
        http::Close::yes));
    return;
  }
  std::string host = util::to_lower(host_without_port(request.host));
  if (std::find(options.no_intercept.begin(), options.no_intercept.end(), host) == options.no_intercept.end())
    return responder.open_tunnel(true);
  bool by_host = false;
  const ServiceConfig& config = route(request, &by_host);
  ServiceState& state = *config.state;
  Mode mode = effective(state);
  if (mode == Mode::mock || mode == Mode::transitioning) {
    // A relayed tunnel reaches the real host: MOCK never does.
    responder.send(http::json_response(
        502, nlohmann::json{{"error", "host is --no-intercept: its tunnel would reach the real host, which MOCK never does"},
                            {"host", request.host}}.dump(), {}, http::Close::yes));
    return;
  }
  std::string recorded_at = util::now_iso8601();
  responder.open_tunnel(false, [this, &state, learn = mode == Mode::learn, service_id = config.id,
                                recorded_at = std::move(recorded_at)](const http::TunnelStats& stats) {
    metrics.count_request(learn ? MatchType::learn : MatchType::passthrough);
    if (!learn) return;
    nlohmann::json line = event_record(state, "tunnel", "tun", service_id);
    line["recorded_at"] = recorded_at;
    line["host"] = stats.authority;
    line["bytes_up"] = stats.bytes_up;
    line["bytes_down"] = stats.bytes_down;
    line["duration_ms"] = stats.duration_ms;
    if (!stats.error.empty()) line["error"] = stats.error;
    record_line(state, line.dump());
  });
}

} // namespace gostly::serve
