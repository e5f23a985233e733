#pragma once
// The proxy engine shared by gostly-serve and gostly-record: services and routing, the global
// and per-service modes, LEARN recording, the MOCK cascade, and the control API. Networking is
// lib/http's; this file decides what each request gets.
#include "http/server.hpp"
#include "match/matcher.hpp"
#include "record/interaction.hpp"
#include "serve/chaos.hpp"
#include "serve/metrics.hpp"
#include "serve/worker.hpp"
#include "store/mode.hpp"

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gostly::tls {
class CertificateAuthority;
}

namespace gostly::serve {

/// A `--route` rule: `HOST=URL` routes by Host header (or absolute-form authority), `/PREFIX=URL`
/// by path prefix. The service id is the host (port dropped) or the prefix without its slashes
/// (`/payments/v1` -> `payments-v1`).
struct Route {
  enum class Kind { host, path_prefix };
  Kind kind = Kind::host;
  std::string match;      // lower-case host, or "/prefix" (no trailing slash)
  std::string service_id;
  http::Url upstream;
};

/// Parses a `--route` value; throws UsageError naming what is wrong.
Route parse_route(std::string_view spec);
/// Parses `HOST` or `/PREFIX` (the `route` field of PUT /services/{id}); throws UsageError.
Route parse_route_match(std::string_view match, const std::string& service_id);

/// Where LEARN interactions go once redacted: gostly-record writes JSONL to a stream; when
/// empty, the engine appends to `<data>/traffic/<service>.jsonl`. Throws on I/O failure.
using RecordSink = std::function<void(const record::Interaction& redacted)>;
/// Where records of other types go (`"type":"tunnel"`, `"type":"ws_frame"`): one compact JSON
/// object per call, no newline. Empty: the service's traffic log, like interactions.
using LineSink = std::function<void(std::string_view line)>;

struct EngineOptions {
  std::filesystem::path data_dir = "./data";
  std::string store;                           // --store; empty = data_dir/library.db
  std::optional<http::Url> upstream;           // the default service's upstream
  std::vector<Route> routes;
  std::string default_service = "default";
  std::optional<store::Mode> start_mode;        // nullopt = mode.txt, else LEARN
  bool fixed_mode = false;                      // gostly-record: no mode.txt, no library
  std::string session_id;                       // first LEARN session id; empty = generated
  std::vector<std::string> redact_headers;      // on top of the floor and REDACT_HEADERS
  std::string api_key;                          // control API key; empty = no key check
  std::chrono::seconds transition_timeout{120}; // a begin without end reverts after this
  RecordSink sink;
  LineSink line_sink;
  /// TLS interception: CONNECT is answered and its TLS terminated with leaves from this CA, and
  /// GET /ca.crt serves it. Null: interception is off (CONNECT 501, /ca.crt 503).
  std::shared_ptr<tls::CertificateAuthority> authority;
  /// Hosts whose CONNECT tunnels are relayed untouched (pinned clients); recorded as
  /// `"type":"tunnel"` with byte counts only. Lower-case, no port.
  std::vector<std::string> no_intercept;
  /// Bytes of RAM for the session-verbatim tier, one budget for all services, oldest keys
  /// evicted first (gostly-serve's --session-buffer-max); 0 = no session tier.
  std::uint64_t session_buffer_max = match::kDefaultSessionBufferMax;
  /// Runs the transition pipeline over the data dir's traffic/ into library.db (POST
  /// /v1/transition {"action":"run"}); called on a background thread while TRANSITIONING.
  std::function<void()> run_transition;
  /// What a seed import or a transition run may cost (each runs as a child process).
  WorkBudget work;
  /// Remember which requests MOCK missed (`gostly-serve -- CMD` lists them when CMD exits).
  bool track_misses = false;
  /// `--chaos SERVICE=SPEC`: chaos for these services for this run (over what library.db holds;
  /// not persisted). A service named here that does not exist yet is created.
  std::vector<std::pair<std::string, ChaosSpec>> chaos;
};

/// The requests MOCK could not answer, for `gostly-serve -- CMD`'s summary: bounded, whatever
/// the run sends.
struct MissedRequests {
  static constexpr std::size_t kMaxListed = 20;
  std::uint64_t total = 0;             // every miss
  std::vector<std::string> distinct;   // "METHOD URI" (service when not default), first kMaxListed distinct
  bool more = false;                   // more distinct ones than listed
};

class Engine {
public:
  explicit Engine(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// The proxy port's request handler.
  void handle(record::Request& request, http::Responder responder);
  /// The control port's request handler (X-API-Key checked here).
  void handle_control(record::Request& request, http::Responder responder);

  /// Periodic work, every ~200 ms from the main thread: applies an edited mode.txt and reverts a
  /// transition whose end never came.
  void tick();

  /// Loads every known service's library from library.db (a missing file is an empty library).
  void load_libraries();
  /// Starts reloading on changes other processes make to the store (serve/library_watch.hpp):
  /// LISTEN/NOTIFY on PostgreSQL, polling on SQLite. Call after load_libraries().
  void watch_library();

  store::Mode global_mode() const noexcept;
  /// Sets the global mode (cursor reset on entering MOCK, new session on entering LEARN);
  /// `persist` also writes mode.txt.
  void set_global_mode(store::Mode mode, bool persist);
  /// The mode `service_id` answers in now.
  store::Mode effective_mode(const std::string& service_id) const;

  Metrics& metrics() noexcept;

  /// With EngineOptions::track_misses: what MOCK missed so far.
  MissedRequests missed() const;

  /// The proxy listener's HOST:PORT, set before it serves: a proxy client that names it (curl
  /// applying HTTP_PROXY to GOSTLY_PROXY_URL) is answered as one pointed here, not forwarded to itself.
  void set_own_address(const std::string& bound_address);
  /// The control listener's HOST:PORT, set before the proxy serves: a request for it that comes
  /// through the proxy (HTTP_PROXY) is answered by the control API, not forwarded.
  void set_control_address(const std::string& bound_address);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Constant-time comparison of an API key (the time does not depend on where they differ).
bool keys_equal(std::string_view given, std::string_view expected) noexcept;

} // namespace gostly::serve
