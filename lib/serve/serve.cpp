#include "serve/serve.hpp"

#include "http/server.hpp"
#include "record/jsonl.hpp"
#include "serve/command_env.hpp"
#include "serve/engine.hpp"
#include "serve/interception.hpp"
#include "serve/signals.hpp"
#include "store/data_dir.hpp"
#include "store/library_db.hpp"
#include "tls/authority.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <mutex>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace gostly::serve {
namespace {

constexpr std::chrono::milliseconds kTick{200};

http::Url parse_upstream(const std::string& text, const char* what) {
  auto url = http::parse_url(text);
  if (!url) throw UsageError(std::string(what) + " '" + text + "': expected http(s)://HOST[:PORT][/PATH]");
  return *url;
}

http::ServerOptions server_options(const std::string& listen, const ProxySettings& settings) {
  http::ServerOptions options;
  options.listen = listen;
  options.threads = settings.threads;
  auto size = http::parse_size(settings.max_body);
  if (!size || *size == 0)
    throw UsageError("--max-body '" + settings.max_body + "': expected a size such as 65536, 512K or 64M");
  options.max_body = *size;
  if (!(settings.upstream_timeout > 0)) throw UsageError("--upstream-timeout: expected a positive number of seconds");
  options.upstream_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(settings.upstream_timeout * 1000));
  options.upstream_ca_file = settings.upstream_ca;
  options.upstream_insecure = settings.upstream_insecure;
  return options;
}

// Every client and upstream connection is a descriptor, and a default soft limit of 1024 would
// cap a proxy far below what it can serve: raise it to the hard limit, as nginx's
// worker_rlimit_nofile does.
void raise_open_file_limit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  rlim_t wanted = limit.rlim_max;
  limit.rlim_cur = wanted;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) spdlog::debug("cannot raise the open-file limit to {}", wanted);
}

bool is_loopback(const std::string& host_port) {
  auto hp = http::parse_host_port(host_port);
  if (!hp) return false;
  return hp->host == "localhost" || hp->host == "::1" || hp->host.starts_with("127.");
}

WorkBudget work_budget(const ServeOptions& o) {
  WorkBudget budget;
  if (!(o.work_timeout > 0) || o.work_timeout > 86400)
    throw UsageError("--work-timeout: expected seconds, more than 0 and at most 86400");
  budget.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.work_timeout * 1000 + 0.5));
  auto memory = http::parse_size(o.work_memory);
  if (!memory || *memory < (std::uint64_t{16} << 20))
    throw UsageError("--work-memory '" + o.work_memory + "': expected a size of at least 16M, such as 512M or 2G");
  budget.memory = *memory;
  return budget;
}

struct Child {
  pid_t pid = -1;
  int spawn_error = 0;
};

// Runs `command` with `env_storage` as its environment; `stdout_to_stderr` when our stdout is a
// data stream (gostly-record -o -).
Child spawn_command(const std::vector<std::string>& command, bool stdout_to_stderr, std::vector<std::string> env_storage,
                    const SignalWaiter& signals) {
  std::vector<char*> envp;
  for (auto& entry : env_storage) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = command;
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD}) sigaddset(&defaults, s);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &signals.original_mask());
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The JSONL stream owns stdout; the command's own output goes to stderr instead.
  if (stdout_to_stderr) posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  Child child;
  child.spawn_error = posix_spawnp(&child.pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return child;
}

// What CMD is told (command_env.hpp): the proxy always, HTTPS and the CA bundle with interception.
// The bundle is rewritten on every run, so it follows the system roots.
std::vector<std::string> command_environment_for(const InterceptionSetup& interception, const std::string& address,
                                                 std::vector<std::pair<std::string, std::string>> extra = {},
                                                 std::vector<std::string> no_proxy_extra = {}) {
  CommandEnvSettings settings;
  settings.extra = std::move(extra);
  settings.no_proxy_extra = std::move(no_proxy_extra);
  settings.proxy_url = "http://" + address;
  settings.proxy_authority = address;
  if (interception.authority) {
    std::error_code ec;
    settings.ca_file = std::filesystem::absolute(interception.authority->certificate_path(), ec);
    if (ec) settings.ca_file = interception.authority->certificate_path();
    settings.bundle_file = settings.ca_file.parent_path() / "bundle.crt";
    const char* inherited = std::getenv("SSL_CERT_FILE");
    auto roots = system_roots_file(inherited ? inherited : "");
    try {
      if (!write_ca_bundle(settings.bundle_file, roots, interception.authority->certificate_pem()))
        spdlog::warn("no readable system trust roots (SSL_CERT_FILE, /etc/ssl/certs/ca-certificates.crt): {} holds "
                     "only the gostly CA, so the command trusts nothing else",
                     settings.bundle_file.string());
    } catch (const Error& e) {
      // A read-only data dir with a CA in it: the CA alone still lets intercepted hosts verify.
      spdlog::warn("cannot write the CA bundle ({}); the command trusts {} alone", e.what(), settings.ca_file.string());
      settings.bundle_file = settings.ca_file;
    }
  } else {
    spdlog::info("interception is off: HTTPS_PROXY is not set for the command, so its https:// requests go direct "
                 "and are not recorded (ENABLE_TLS_INTERCEPTION=true records them)");
  }
  std::vector<std::string> parent;
  for (char** e = environ; *e; ++e) parent.emplace_back(*e);
  return command_environment(parent, settings);
}

// Waits for `child`, passing SIGINT/SIGTERM on to it and calling `tick` every kTick; returns its
// exit status (128+N when killed by signal N).
int wait_for_child(const Child& child, SignalWaiter& signals, const std::function<void()>& tick = {}) {
  for (;;) {
    int signal = signals.wait(kTick);
    if (signal == SIGINT || signal == SIGTERM) ::kill(child.pid, signal);
    int wstatus = 0;
    pid_t done = ::waitpid(child.pid, &wstatus, WNOHANG);
    if (done == child.pid) return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    if (done < 0 && errno != EINTR) throw Error(std::string("waitpid: ") + std::strerror(errno));
    if (tick) tick();
  }
}

// The message and status for a command that could not be started (as `env` and `timeout` do).
int spawn_failure(const char* tool, const std::string& command, int error) {
  std::cerr << tool << ": error: cannot run '" << command << "': " << std::strerror(error) << "\n";
  return error == ENOENT ? 127 : 126;
}

// `gostly-serve -- CMD`'s report on stderr: one line of counts, then what MOCK missed.
void print_summary(Engine& engine) {
  auto& metrics = engine.metrics();
  std::uint64_t total = 0;
  std::string tiers;
  for (std::size_t i = 0; i < static_cast<std::size_t>(MatchType::count_); ++i) {
    auto type = static_cast<MatchType>(i);
    if (auto n = metrics.requests(type)) {
      total += n;
      tiers += (tiers.empty() ? "" : ", ") + std::string(label(type)) + " " + std::to_string(n);
    }
  }
  auto missed = engine.missed();
  auto up = metrics.upstream();
  std::cerr << "gostly-serve: " << total << " request" << (total == 1 ? "" : "s") << (tiers.empty() ? "" : " (" + tiers + ")")
            << "; " << missed.total << " missed; upstream: " << up.connections << " connection"
            << (up.connections == 1 ? "" : "s") << ", " << up.resolutions << " DNS lookup"
            << (up.resolutions == 1 ? "" : "s") << ", " << up.tls_handshakes << " TLS handshake"
            << (up.tls_handshakes == 1 ? "" : "s") << "\n";
  for (const auto& what : missed.distinct) std::cerr << "gostly-serve: missed: " << what << "\n";
  if (missed.more) std::cerr << "gostly-serve: missed: ... and more (only the first " << MissedRequests::kMaxListed << " distinct are listed)\n";
}

int serve_main(const ServeOptions& o) {
  const bool wrapping = !o.command.empty();
  SignalWaiter signals; // before any thread starts, so every thread inherits the blocked mask
  raise_open_file_limit();
  EngineOptions engine_options;
  engine_options.data_dir = o.data_dir;
  if (!o.upstream.empty()) engine_options.upstream = parse_upstream(o.upstream, "--upstream");
  for (const auto& spec : o.routes) engine_options.routes.push_back(parse_route(spec));
  for (const auto& spec : o.chaos) {
    auto chaos = parse_chaos_option(spec);
    util::require_safe_id(chaos.first, "--chaos service");
    engine_options.chaos.push_back(std::move(chaos));
  }
  if (!o.mode.empty()) {
    auto mode = store::parse_mode(o.mode);
    if (!mode || *mode == store::Mode::transitioning)
      throw UsageError("--mode '" + o.mode + "': expected LEARN, MOCK or PASSTHROUGH");
    engine_options.start_mode = mode;
  }
  const char* key = std::getenv("GHOST_API_KEY");
  if (key && *key) {
    engine_options.api_key = key;
  } else if (wrapping && !o.insecure_control) {
    // A run of its own: a key for this run only, handed to CMD with the control API's URL.
    engine_options.api_key = util::random_id("key");
  } else if (!o.insecure_control) {
    throw UsageError("the control API needs a key: set GHOST_API_KEY (or pass --insecure-control with a loopback "
                     "--control address)");
  } else if (!is_loopback(o.control)) {
    throw UsageError("--insecure-control is only allowed on a loopback --control address, not '" + o.control + "'");
  } else {
    spdlog::warn("control API without a key (--insecure-control): anyone on this machine can change modes");
  }
  auto session_buffer_max = http::parse_size(o.session_buffer_max);
  if (!session_buffer_max)
    throw UsageError("--session-buffer-max (env GOSTLY_SESSION_BUFFER_MAX) '" + o.session_buffer_max +
                     "': expected a size such as 1048576, 512K or 64M (0 turns the session-verbatim tier off)");
  engine_options.session_buffer_max = *session_buffer_max;
  engine_options.track_misses = wrapping;
  store::DataDir data(o.data_dir, o.store);
  data.ensure();
  // A team store that cannot be reached at start is a configuration error (host, database,
  // password, sslmode): exit 2 naming it, instead of serving an empty library that misses every
  // request. Once running, a lost connection never stops MOCK (serve/library_watch.hpp). This also
  // applies the store's migrations before anything is served.
  if (!data.library().is_sqlite() && !engine_options.fixed_mode) store::LibraryDb reachable(data.library());
  engine_options.store = o.store;
  auto interception = setup_interception(o.proxy, o.data_dir);
  engine_options.authority = interception.authority;
  engine_options.no_intercept = interception.no_intercept;
  engine_options.work = work_budget(o);
  // In a child (worker.hpp): traffic/ holds files anyone with access to the data dir may write.
  // The transition child (run_transition_work) finds the store in its environment, never in its
  // argv, where ps would show a password. Set before any thread starts.
  if (!o.store.empty()) ::setenv("GOSTLY_STORE", o.store.c_str(), 1);
  engine_options.run_transition = [data_dir = o.data_dir, budget = engine_options.work] {
    run_transition_work(data_dir, budget);
  };

  auto proxy_options = server_options(o.listen, o.proxy);
  auto control_options = proxy_options;
  control_options.listen = o.control;
  control_options.threads = 1;
  // The control API never forwards: no trust store to load, no insecure-upstream warning twice.
  control_options.upstream_ca_file.clear();
  control_options.upstream_insecure = false;

  const std::string api_key = engine_options.api_key;
  Engine engine(std::move(engine_options));
  engine.load_libraries();
  engine.watch_library();
  apply_interception(interception, proxy_options, engine.metrics(), false);
  proxy_options.upstream_counters = std::make_shared<http::UpstreamCounters>();
  engine.metrics().set_upstream_source([counters = proxy_options.upstream_counters] {
    return UpstreamStats{counters->connections.load(std::memory_order_relaxed),
                         counters->resolutions.load(std::memory_order_relaxed),
                         counters->tls_handshakes.load(std::memory_order_relaxed)};
  });
  http::Handler handler = [&engine](record::Request& r, http::Responder responder) {
    engine.handle(r, std::move(responder));
  };
  http::Server proxy(proxy_options, handler);
  engine.set_own_address(proxy.bound_address()); // before serving: workers read it unlocked
  http::Server control(control_options, [&engine](record::Request& r, http::Responder responder) {
    engine.handle_control(r, std::move(responder));
  });
  engine.set_control_address(control.bound_address());
  proxy.start();
  control.start();
  // A run of its own (-- CMD) takes a free TLS port too, unless --tls-listen names one.
  auto tls_listener =
      open_tls_listener(interception, o.proxy, proxy_options, handler, wrapping ? "127.0.0.1:0" : kDefaultTlsListen);
  // Printed whatever the log level: scripts and tests find the picked ports here.
  std::cerr << "gostly-serve: proxy listening on " << proxy.bound_address() << "\n";
  if (tls_listener) std::cerr << "gostly-serve: TLS listening on " << tls_listener->bound_address() << "\n";
  std::cerr << "gostly-serve: control listening on " << control.bound_address() << "\n"
            << "gostly-serve: mode " << store::to_string(engine.global_mode()) << std::endl;
  int status = 0;
  if (!wrapping) {
    for (;;) {
      int signal = signals.wait(kTick);
      if (signal == SIGINT || signal == SIGTERM) break;
      engine.tick();
    }
  } else {
    auto loopback = [](std::string address) {
      return address.starts_with("0.0.0.0:") ? "127.0.0.1:" + address.substr(8) : address;
    };
    std::string address = loopback(proxy.bound_address());
    std::string control_address = loopback(control.bound_address());
    Child child = spawn_command(o.command, false,
                                command_environment_for(interception, address,
                                                        {{"GOSTLY_CONTROL_URL", "http://" + control_address},
                                                         {"GHOST_API_KEY", api_key}},
                                                        {control_address}),
                                signals);
    if (child.spawn_error) {
      control.stop();
      if (tls_listener) tls_listener->stop();
      proxy.stop();
      return spawn_failure("gostly-serve", o.command.front(), child.spawn_error);
    }
    status = wait_for_child(child, signals, [&engine] { engine.tick(); });
  }
  spdlog::info("shutting down");
  control.stop();
  if (tls_listener) tls_listener->stop();
  proxy.stop();
  if (wrapping) {
    print_summary(engine);
    if (o.fail_on_miss && status == 0 && engine.missed().total > 0) status = 1;
  }
  return status;
}

} // namespace

int run(const ServeOptions& o) {
  if (o.fail_on_miss && o.command.empty()) throw UsageError("--fail-on-miss needs a command to run (-- CMD ARGS)");
  if (o.command.empty()) return serve_main(o);
  try {
    return serve_main(o);
  } catch (const std::exception& e) {
    std::cerr << "gostly-serve: error: " << e.what() << "\n";
    return kRecordFailure;
  }
}

namespace {

int open_output(const RecordOptions& o, std::string& name) {
  if (o.output == "-") {
    name = "<stdout>";
    return STDOUT_FILENO;
  }
  name = o.output;
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
  struct stat st {};
  bool regular_exists = ::stat(o.output.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  if (regular_exists && st.st_size > 0 && !o.force)
    throw UsageError(o.output + ": file exists (use --force to overwrite it)");
  if (regular_exists || ::stat(o.output.c_str(), &st) != 0) flags |= O_TRUNC;
  int fd = ::open(o.output.c_str(), flags, 0644);
  if (fd < 0) throw Error(o.output + ": " + std::strerror(errno));
  return fd;
}

int record_main(const RecordOptions& o) {
  SignalWaiter signals;
  raise_open_file_limit();
  EngineOptions engine_options;
  // Without an upstream gostly-record is a forward proxy: each request goes where it names.
  if (!o.upstream.empty()) engine_options.upstream = parse_upstream(o.upstream, "--upstream");
  util::require_safe_id(o.service, "--service");
  if (!o.session.empty()) util::require_safe_id(o.session, "--session");
  engine_options.default_service = o.service;
  engine_options.session_id = o.session.empty() ? util::random_id("sess", true) : o.session;
  engine_options.fixed_mode = true;
  engine_options.start_mode = store::Mode::learn;
  engine_options.redact_headers = o.redact_headers;
  auto server_opts = server_options(o.listen, o.proxy);
  auto interception = setup_interception(o.proxy, o.data_dir);
  engine_options.authority = interception.authority;
  engine_options.no_intercept = interception.no_intercept;

  std::string output_name;
  int fd = open_output(o, output_name);
  record::JsonlWriter writer(fd, output_name, record::Flush::per_record);
  std::mutex writer_mutex;
  engine_options.sink = [&](const record::Interaction& interaction) {
    std::lock_guard lock(writer_mutex);
    writer.write(interaction);
  };
  engine_options.line_sink = [&](std::string_view line) {
    std::lock_guard lock(writer_mutex);
    writer.write_line(line);
  };
  Engine engine(std::move(engine_options));
  apply_interception(interception, server_opts, engine.metrics(), false);
  http::Handler handler = [&engine](record::Request& r, http::Responder responder) {
    engine.handle(r, std::move(responder));
  };
  http::Server proxy(server_opts, handler);
  std::string address = proxy.bound_address();
  if (address.starts_with("0.0.0.0:")) address = "127.0.0.1:" + address.substr(8);
  engine.set_own_address(proxy.bound_address());
  proxy.start();
  auto tls_listener = open_tls_listener(interception, o.proxy, server_opts, handler);
  std::cerr << "gostly-record: listening on " << address << std::endl;
  if (tls_listener) std::cerr << "gostly-record: TLS listening on " << tls_listener->bound_address() << std::endl;

  int status = 0;
  if (o.command.empty()) {
    for (;;) {
      int signal = signals.wait(kTick);
      if (signal == SIGINT || signal == SIGTERM) break;
    }
  } else {
    if (o.set_proxy_env)
      spdlog::warn("--set-proxy-env is deprecated and does nothing: HTTP_PROXY and http_proxy (and with interception "
                   "HTTPS_PROXY and https_proxy) are always set for the command");
    Child child = spawn_command(o.command, o.output == "-", command_environment_for(interception, address), signals);
    if (child.spawn_error) {
      proxy.stop();
      return spawn_failure("gostly-record", o.command.front(), child.spawn_error);
    }
    status = wait_for_child(child, signals);
  }
  if (tls_listener) tls_listener->stop();
  proxy.stop();
  {
    std::lock_guard lock(writer_mutex);
    writer.flush();
  }
  auto lost = engine.metrics().io_errors(IoOperation::record_output);
  if (lost) spdlog::error("{} interaction(s) could not be written to {}", lost, output_name);
  if (fd != STDOUT_FILENO) ::close(fd);
  return status;
}

} // namespace

int run_record(const RecordOptions& o) {
  try {
    return record_main(o);
  } catch (const std::exception& e) {
    std::cerr << "gostly-record: error: " << e.what() << "\n";
    return kRecordFailure;
  }
}

} // namespace gostly::serve
