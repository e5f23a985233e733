// gostly-serve: the proxy daemon (modes LEARN, MOCK, PASSTHROUGH, TRANSITIONING) and its control API.
#include "cli/tool.hpp"
#include "serve/serve.hpp"

int main(int argc, char** argv) {
  CLI::App app{"The gostly proxy: records traffic in LEARN, answers from the mock library in MOCK.\n"
               "Control API: X-API-Key from GHOST_API_KEY.\n"
               "With -- CMD ARGS, runs CMD behind the proxy on free ports and exits with its status."};
  gostly::cli::CommonOptions common;
  gostly::serve::ServeOptions opts;
  gostly::cli::setup_app(app, "gostly-serve", common);
  gostly::cli::add_data_option(app, opts.data_dir);
  gostly::cli::add_store_option(app, opts.store);
  app.add_option("--listen", opts.listen, "Proxy address HOST:PORT (port 0 picks a free one)")->capture_default_str();
  app.add_option("--control", opts.control, "Control API address HOST:PORT")->capture_default_str();
  app.add_option("--upstream", opts.upstream, "Upstream base URL of the default service (http(s)://HOST[:PORT][/PATH])")
      ->envname("BACKEND_URL");
  app.add_option("--route", opts.routes, "Route HOST=URL or /PREFIX=URL to its own service (repeatable)");
  app.add_option("--chaos", opts.chaos,
                 "Chaos for a service in MOCK and PASSTHROUGH, SERVICE=SPEC: SPEC as JSON or "
                 "latency_ms=MIN-MAX,error_rate=R,error_status=N,drop_rate=R,seed=N (repeatable)");
  app.add_option("--mode", opts.mode, "Starting global mode: LEARN, MOCK or PASSTHROUGH (default: mode.txt, else LEARN)");
  gostly::serve::add_proxy_settings(app, opts.proxy);
  app.get_option("--tls-listen")
      ->description("Also listen here for TLS straight from clients (SNI picks the service) and CONNECT, when "
                    "ENABLE_TLS_INTERCEPTION is on (default 127.0.0.1:8443; none = no such listener)");
  app.add_option("--work-timeout", opts.work_timeout,
                 "Seconds a seed import or transition run (a child process) may take")
      ->envname("GOSTLY_WORK_TIMEOUT")
      ->capture_default_str();
  app.add_option("--work-memory", opts.work_memory, "Memory (address space) a seed import or transition run may use")
      ->envname("GOSTLY_WORK_MEMORY")
      ->capture_default_str();
  app.add_option("--session-buffer-max", opts.session_buffer_max,
                 "RAM for the session-verbatim tier (replays of the current LEARN session), all services; oldest keys "
                 "out first (e.g. 512K, 64M; 0 = off)")
      ->envname("GOSTLY_SESSION_BUFFER_MAX")
      ->capture_default_str();
  app.add_flag("--insecure-control", opts.insecure_control,
               "Allow the control API without GHOST_API_KEY (loopback --control only)");
  app.add_flag("--fail-on-miss", opts.fail_on_miss,
               "With a command: exit 1 when any request missed in MOCK, even if the command succeeded");
  app.add_option("command", opts.command,
                 "Command to run behind the proxy (after --); the proxy, TLS and control ports default to free ones");
  
  return gostly::cli::run_tool(app, "gostly-serve", common, argc, argv, [&] {
    gostly::cli::setup_logging("gostly-serve", common, /*default_info=*/true);
    if (!opts.command.empty()) { // a run of its own: ports nobody else holds unless told (TLS: serve.cpp)
      if (app.get_option("--listen")->count() == 0) opts.listen = "127.0.0.1:0";
      if (app.get_option("--control")->count() == 0) opts.control = "127.0.0.1:0";
    }
    return gostly::serve::run(opts);
  });
}
