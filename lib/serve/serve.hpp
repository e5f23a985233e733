#pragma once
// The two programs built on the engine: gostly-serve (the daemon) and gostly-record (a LEARN
// proxy in the foreground that writes JSONL and can wrap a command).
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace gostly::serve {

/// How the proxy talks to clients and upstreams; gostly-serve and gostly-record share the flags.
struct ProxySettings {
  unsigned threads = 0;              // 0 = one per core
  std::string max_body = "64M";
  double upstream_timeout = 30;      // seconds
  std::string upstream_ca;           // extra PEM trust roots for https:// upstreams
  bool upstream_insecure = false;    // do not verify https:// upstreams
  std::string tls_listen;            // also take TLS (and CONNECT) here; needs interception
  std::vector<std::string> no_intercept; // CONNECT hosts relayed untouched
};

/// Adds --threads, --max-body, --upstream-timeout, --upstream-ca, --upstream-insecure,
/// --tls-listen and --no-intercept.
void add_proxy_settings(CLI::App& app, ProxySettings& settings);

struct ServeOptions {
  std::string data_dir = "./data";
  std::string store;                 // --store / GOSTLY_STORE; empty = data_dir/library.db
  std::string listen = "127.0.0.1:8080";
  std::string control = "127.0.0.1:8000";
  std::string upstream;              // env BACKEND_URL
  std::vector<std::string> routes;   // HOST=URL or /PREFIX=URL
  std::vector<std::string> chaos;    // SERVICE=SPEC (serve/chaos.hpp)
  std::string mode;                  // empty = mode.txt, else LEARN
  ProxySettings proxy;
  bool insecure_control = false;
  double work_timeout = 120;         // seconds a seed import or transition run may take
  std::string work_memory = "2G";    // address space it may use
  std::string session_buffer_max = "64M"; // env GOSTLY_SESSION_BUFFER_MAX; 0 = no session-verbatim tier
  std::vector<std::string> command;  // after `--`: run it behind the proxy, exit with its status
  bool fail_on_miss = false;         // with a command: exit 1 when MOCK missed any request
};

/// Runs gostly-serve until SIGINT/SIGTERM; returns the exit status. Throws UsageError for bad
/// options (including a control API without GHOST_API_KEY). With a command: runs it with the
/// proxy in its environment (as gostly-record does, plus GOSTLY_CONTROL_URL and GHOST_API_KEY, a
/// key made for the run when none is set), stops when it exits, prints a summary (requests per
/// match type, misses, upstream connections) and returns its status, 1 with fail_on_miss when it
/// succeeded but MOCK missed a request; its own failures are kRecordFailure, 126/127 when CMD
/// cannot be run or found.
int run(const ServeOptions& options);

struct RecordOptions {
  std::string data_dir = "./data";   // where the interception CA lives (ca/)
  std::string upstream;              // env BACKEND_URL
  std::string listen = "127.0.0.1:8080";
  std::string output = "-";
  bool force = false;                // overwrite an existing -o file
  std::string service = "default";
  std::string session;               // empty = generated
  std::vector<std::string> redact_headers;
  bool set_proxy_env = false;
  ProxySettings proxy;
  std::vector<std::string> command;  // after `--`
};

/// gostly-record's own failures (not its command's): 125, as `timeout` and `env` do.
inline constexpr int kRecordFailure = 125;

/// Runs gostly-record. Without a command: until SIGINT/SIGTERM, returns 0. With one: returns its
/// exit status (128+N when killed by signal N), 126 when it cannot be run, 127 when not found.
/// Prints its own failures and returns kRecordFailure.
int run_record(const RecordOptions& options);

} // namespace gostly::serve
