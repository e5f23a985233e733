#pragma once
// Engine internals shared by engine.cpp and control.cpp (not a public header).
#include "match/matcher.hpp"
#include "redact/redact.hpp"
#include "serve/engine.hpp"
#include "serve/library_watch.hpp"
#include "store/data_dir.hpp"
#include "util/files.hpp"

#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace gostly::store {
class LibraryDb;
struct ServiceRow;
}

namespace gostly::serve {

using Clock = std::chrono::steady_clock;

/// The mutable, never-deleted state of one service.
struct ServiceState {
  ServiceState(match::PrepareFn prepare, std::shared_ptr<match::SessionBudget> budget)
      : matcher(std::move(prepare), std::move(budget)) {}
  std::string id;
  std::atomic<int> mode_override{-1}; // -1 = follow the global mode
  match::ServiceMatcher matcher;
  std::mutex session_mutex;
  std::string session_id;
  std::mutex log_mutex;
  std::unique_ptr<util::AppendLog> log;
};

/// One service's configuration as published in a routing table (immutable once published).
struct ServiceConfig {
  std::string id;
  std::optional<http::Url> upstream;
  std::optional<Route> route;
  std::vector<std::string> extra_redact; // per-service names on top of the engine's
  std::shared_ptr<const redact::Redactor> redactor;
  ServiceState* state = nullptr;
  /// Null when the service has no chaos: the only check MOCK and PASSTHROUGH pay for it.
  std::shared_ptr<Chaos> chaos = nullptr;
};

/// Hashes std::string and std::string_view alike, so a lookup by a view allocates nothing.
struct IdHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view id) const noexcept { return std::hash<std::string_view>{}(id); }
};

struct Table {
  std::vector<ServiceConfig> services;
  std::vector<std::pair<std::string, std::size_t>> host_routes;
  std::vector<std::pair<std::string, std::size_t>> prefix_routes; // longest first
  /// Hosts as services: every service but the default, by id (see Impl::route()).
  std::unordered_map<std::string, std::size_t, IdHash, std::equal_to<>> host_services;
  bool ids_with_port = false; // some id ends in -DIGITS, as gostly-seed names HOST:PORT
  std::size_t default_index = 0;
};

struct Engine::Impl {
  explicit Impl(EngineOptions options);

  EngineOptions options;
  store::DataDir data;
  redact::Redactor base_redactor;
  Metrics metrics;
  mutable std::mutex missed_mutex;
  MissedRequests missed; // guarded by missed_mutex; only with options.track_misses
  void note_miss(const std::string& service_id, const record::Request& request);
  std::shared_ptr<match::SessionBudget> session_budget; // shared by every service's matcher
  Engine* self = nullptr;

  mutable std::mutex states_mutex;
  std::map<std::string, std::unique_ptr<ServiceState>> states;

  mutable std::mutex table_mutex;
  std::shared_ptr<const Table> table;
  std::atomic<std::uint64_t> generation{0};

  std::atomic<int> global_mode{0};
  FileStamp mode_file_stamp;
  Clock::time_point mode_file_empty_since{}; // poll_mode_file(): an in-place write in progress

  std::mutex transition_mutex;
  store::Mode transition_return = store::Mode::learn;
  Clock::time_point transition_deadline{};
  std::thread transition_thread;
  std::string transition_last_error;

  std::vector<std::string> own_authorities; // set_own_address(); read-only once serving
  std::vector<std::string> control_authorities; // set_control_address(); read-only once serving
  /// The client named an API (CONNECT, absolute-form, inside a tunnel), not this proxy itself.
  bool names_api(const record::Request& request, const http::Responder& responder) const;

  ServiceState& state_for(const std::string& id);
  static void index_routes(Table& table);
  const Table& current_table() const;
  void publish(std::shared_ptr<const Table> next);
  /// The service of `request`: a host route, a path-prefix route, the service its host names
  /// (hosts as services), else the default. `by_host` (when given): the service's own upstream
  /// wins over the host a proxy client named (a host route, or a named service with an upstream).
  /// `host_service`: its host named it, with no route.
  const ServiceConfig& route(const record::Request& request, bool* by_host = nullptr, bool* host_service = nullptr) const;
  /// Where a LEARN or PASSTHROUGH request of `config` goes (see route() for the flags).
  std::optional<http::Url> upstream_for(const ServiceConfig& config, bool by_host, bool host_service,
                                        const record::Request& request, const http::Responder& responder) const;
  /// Gives every id in `ids` a routing-table entry (no upstream, no route) so its host finds it,
  /// and, given `chaos` (every stored config), sets each service's chaos to it unless --chaos
  /// set theirs. Publishes if anything changed. Called as libraries are loaded (start,
  /// transition, seed import).
  /// The service `id` in `t`; added when missing as PUT /services/{id}, a library or --chaos
  /// makes one: no route, no upstream of its own, the engine's redaction.
  ServiceConfig& service_in(Table& t, const std::string& id);
  void adopt_services(const std::vector<std::string>& ids, const std::map<std::string, ChaosSpec>* chaos = nullptr);

  store::Mode effective(const ServiceState& state) const noexcept;
  void entered(ServiceState& state, store::Mode from, store::Mode to);
  void set_global(store::Mode mode, bool persist);
  void set_override(ServiceState& state, std::optional<store::Mode> mode);
  void remember_mode_file();
  void poll_mode_file();

  void record(ServiceState& state, const redact::Redactor& redactor, record::Interaction&& interaction);
  /// LEARN to traffic/: queues the redacted line and the reply for this event-loop turn; at the
  /// end of the turn each service's lines go to disk in one write(), then the replies go out.
  void record_in_turn(ServiceState& state, const redact::Redactor& redactor, record::Interaction&& interaction,
                      http::Responder responder, std::string reply);
  void commit_turn();
  /// The LEARN session `state` records into now.
  static std::string current_session(ServiceState& state);
  /// A LEARN interaction's identity: id, service, current session, source, time, duration.
  static record::Interaction learned_interaction(ServiceState& state, const std::string& service_id,
                                                 const std::string& recorded_at, double duration_ms);
  /// The common fields of a record that is not an interaction: v, type, id, service, session.
  static nlohmann::json event_record(ServiceState& state, std::string_view type, std::string_view id_prefix,
                                     const std::string& service_id);
  /// A record that is not an interaction (tunnel, ws_frame), to the line sink or traffic log.
  void record_line(ServiceState& state, const std::string& line);
  /// A WebSocket upgrade: relayed (LEARN also records the 101 and each frame), 501 in MOCK.
  void handle_upgrade(const ServiceConfig& config, std::optional<http::Url> upstream, store::Mode mode,
                      record::Request& request, http::Responder responder, Clock::time_point started);
  /// MOCK: the matcher's answer.
  void answer_mock(const ServiceConfig& config, record::Request& request, http::Responder& responder, Clock::time_point started);
  /// MOCK or PASSTHROUGH for a service with chaos: the next decision, its delay on a timer of
  /// the connection's worker (never blocking it), then a drop, an error or the normal answer.
  void chaos_request(const ServiceConfig& config, store::Mode mode, std::optional<http::Url> upstream,
                     record::Request& request, http::Responder responder, Clock::time_point started);
  void chaos_apply(const ServiceConfig& config, ChaosAction action, store::Mode mode, std::optional<http::Url> upstream,
                   record::Request& request, http::Responder responder, Clock::time_point started);
  /// CONNECT: MITM, an untouched tunnel for a --no-intercept host, or a refusal.
  void handle_connect(const record::Request& request, http::Responder responder);
  /// The traffic log of `state`, opened on first use (caller holds state.log_mutex).
  util::AppendLog& traffic_log(ServiceState& state);
  /// `upstream`: where the request goes (the service's, or the host a proxy client named).
  void forward(const ServiceConfig& config, std::optional<http::Url> upstream, record::Request& request,
               http::Responder responder, bool learn, Clock::time_point started);
  /// Loads the libraries from the store: every service's, or only those in `only` (a NOTIFY
  /// named them; settings are applied for all). Serialised by reload_mutex; never blocks requests
  /// (each matcher swaps its snapshot). False when the store could not be read.
  /// `connection`: the store connection to read with (the watcher's), else a new one.
  bool load_libraries(const std::vector<std::string>* only = nullptr, store::LibraryDb* connection = nullptr);
  /// load_libraries(), counted in gostly_library_reloads_total{trigger}.
  bool reload_all(ReloadTrigger trigger, const std::vector<std::string>* only = nullptr,
                  store::LibraryDb* connection = nullptr);
  std::mutex reload_mutex;
  std::string loaded_marker; // the store's change_marker() at the last load (guarded by reload_mutex)
  StoreHealth store_health{data.library()};
  /// The store lines of /healthz.
  nlohmann::json store_json() const;
  // /metrics' drift totals on a PostgreSQL store: one connection kept for the scrapes, and the
  // last totals it read, served (marked stale) while the store is down. Control thread only.
  std::unique_ptr<store::LibraryDb> metrics_db;
  std::string drift_last;
  /// Publishes the per-service redact_headers stored in library.db (PUT /services/{id}).
  void apply_stored_redaction(const std::vector<store::ServiceRow>& rows);
  std::vector<std::pair<std::string, std::uint64_t>> library_sizes() const;

  // Transitions (control.cpp).
  bool transition_active() const;
  void begin_transition(std::chrono::seconds timeout);
  void end_transition(std::optional<store::Mode> mode, bool reload);
  void check_transition_deadline();
  void join_transition_thread();

  // ---- The control API. Its routes are a table (control.cpp: method, pattern, body limit,
  // handler); the handlers live beside their domain in control_<domain>.cpp. All run on the
  // control listener's own thread, so a long import or check never holds up a proxy worker,
  // and control calls are serialised (two imports never race to rebuild one service's index).

  /// One matched request: the `{name}` segments of its route's pattern, in order.
  struct ControlCall {
    const record::Request& request;
    std::string path;
    std::vector<std::string> params;
  };
  /// Each returns the complete response bytes; failures are exceptions the dispatcher maps
  /// (control::HttpError its status, UsageError/LimitError 400, NotFoundError 404,
  /// InputError 422, anything else 500).
  using ControlHandler = std::string (Impl::*)(const ControlCall&);
  struct ControlRoute {
    std::string_view method;  // GET routes answer HEAD too
    std::string_view pattern; // `/v1/drift/events/{id}/acknowledge`: {name} = one non-empty
                              // segment, a final {name...} the rest of the path
    ControlHandler handler;
    std::size_t max_body;     // 413 beyond; the seed routes take up to --max-body
    bool open = false;        // no X-API-Key (GET /healthz)
  };
  static const std::vector<ControlRoute>& control_routes();
  std::string control_dispatch(const record::Request& request);

  // control_mode.cpp
  std::string healthz(const ControlCall& call);
  std::string mode_get(const ControlCall& call);
  std::string mode_post(const ControlCall& call);
  std::string metrics_get(const ControlCall& call);
  std::string reset_cursors(const ControlCall& call);
  // control_services.cpp
  std::string services_list(const ControlCall& call);
  std::string service_get(const ControlCall& call);
  std::string service_put(const ControlCall& call);
  nlohmann::json describe_service(const ServiceConfig& config) const;
  // control_transition.cpp
  std::string transition_post(const ControlCall& call);
  // control_seed.cpp: the import runs in a gostly-seed child under options.work (worker.hpp)
  std::string seed_post(const ControlCall& call);
  // control_drift.cpp
  std::string drift_check(const ControlCall& call);
  std::string drift_events(const ControlCall& call);
  std::string drift_event(const ControlCall& call);
  std::string drift_acknowledge(const ControlCall& call);
  std::string drift_freshness_score(const ControlCall& call);
  std::string drift_sparkline(const ControlCall& call);
  std::string drift_metrics(const ControlCall& call);

  /// The gostly_drift_events_total lines of /metrics (zeros while there is no library.db).
  std::string drift_prometheus();
  std::string drift_prometheus_shared(); // PostgreSQL: see control_drift.cpp
  /// Reloads one service's library from `db` and restarts its replay cursors.
  void reload_service(store::LibraryDb& db, const std::string& id);

  /// Last member: destroyed (its thread stopped) before anything it calls into.
  std::unique_ptr<LibraryWatcher> watcher;
};

} // namespace gostly::serve
