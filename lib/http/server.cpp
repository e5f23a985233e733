// The proxy's listener: binds, accepts, and hands each connection to a worker.
//
// Threading. Each worker owns one io_context run by one thread, plus its own pool of idle
// upstream connections. The acceptor hands each new socket to the next worker in turn, and the
// connection stays there: its reads, the handler, the upstream exchange it may start, and the
// reply all run on that one thread, so nothing here needs a lock or a strand, and the upstream
// pool is a plain map. A worker that is busy only delays its own connections.
//
// Protocols. A connection starts as HTTP/1.1 (connection_http1.cpp), or, on a listener that
// takes TLS directly, after a look at its first byte (tls_termination.cpp). A CONNECT the
// handler accepts leaves HTTP/1.1 for TLS termination or an untouched relay (tunnel.cpp).
#include "http/internal.hpp"

#include "util/error.hpp"

#include <malloc.h>
#include <sched.h>
#include <spdlog/spdlog.h>

namespace gostly::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using detail::Clock;
using detail::Socket;

namespace {
// The cores this process may run on (taskset, cgroup cpusets), not the machine's: more workers
// than usable cores only time-slice against each other and lengthen the latency tail.
unsigned usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}
} // namespace

namespace detail {

void Worker::start_sweeping() {
  sweeper.emplace(ioc);
  sweeper->expires_after(kSweepInterval);
  sweeper->async_wait([this](beast::error_code ec) {
    if (ec) return;
    auto now = Clock::now();
    // expire_if_due() only cancels; connections leave the set later, from their own handlers.
    for (Expiring* connection : connections) connection->expire_if_due(now);
    start_sweeping();
  });
}

void Exchange::open_tunnel(bool, TunnelDone) {
  reply(json_response(405, R"j({"error":"CONNECT is only supported over HTTP/1.1"})j"));
}

void Exchange::relay_upgrade(const Url&, const record::Request&, UpgradeHandlers) {
  reply(json_response(501, R"j({"error":"WebSocket upgrades are relayed over HTTP/1.1 only"})j"));
}

} // namespace detail

Responder::Responder(std::shared_ptr<detail::Exchange> exchange) noexcept : exchange_(std::move(exchange)) {}

void Responder::send(std::string bytes) { exchange_->reply(std::move(bytes)); }
void Responder::send(std::shared_ptr<const std::string> prepared) { exchange_->reply(std::move(prepared)); }
void Responder::send(const record::Response& response, const record::Headers& extra) { exchange_->reply(response, extra); }
bool Responder::head_request() const noexcept { return exchange_->head(); }
bool Responder::closing() const noexcept { return exchange_->closing(); }
bool Responder::named_host() const noexcept { return exchange_->named_host(); }
void Responder::defer(std::function<void()> fn) { asio::post(exchange_->worker().ioc, std::move(fn)); }
void Responder::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(exchange_->worker().ioc, delay);
  timer->async_wait([timer, fn = std::move(fn)](const beast::error_code&) { fn(); });
}
void Responder::drop() { exchange_->drop(); }
void Responder::open_tunnel(bool intercept, TunnelDone done) { exchange_->open_tunnel(intercept, std::move(done)); }
void Responder::relay_upgrade(const Url& upstream, const record::Request& request, UpgradeHandlers handlers) {
  exchange_->relay_upgrade(upstream, request, std::move(handlers));
}

void Responder::forward(const Url& upstream, const record::Request& request, std::function<void(UpstreamResult&&)> done) {
  detail::start_upstream_call(exchange_->worker(), exchange_->shared(), upstream, request, std::move(done), exchange_);
}

struct Server::Impl {
  detail::Shared shared;
  std::vector<std::unique_ptr<detail::Worker>> workers;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_backoff;
  std::optional<asio::steady_timer> accept_recovery;
  std::size_t next_worker = 0;
  bool started = false;
  bool stopped = false;
  // At the descriptor limit accept failures come in bursts: every connection that closes lets
  // one accept through before the next fails. So an episode ends only after a quiet second, and
  // is logged once however often it flaps. All of this runs on the acceptor's executor (the
  // first worker's thread): accept handlers and both timers, so no lock.
  static constexpr std::chrono::seconds kAcceptQuiet{1};
  bool accept_failing = false;
  bool recovery_armed = false;
  Clock::time_point last_accept_failure;
  Clock::time_point last_accept_success;

  void accept() {
    auto& target = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    acceptor->async_accept(target.ioc, [this, &target](beast::error_code ec, Socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (ec) {
        // Out of descriptors (EMFILE/ENFILE) or memory: the pending connection stays queued, so
        // accepting again at once would spin.
        if (!accept_failing) spdlog::warn("accept failed: {} (retrying every 50 ms)", ec.message());
        accept_failing = true;
        last_accept_failure = Clock::now();
        accept_backoff.emplace(workers.front()->ioc);
        accept_backoff->expires_after(std::chrono::milliseconds(50));
        accept_backoff->async_wait([this](beast::error_code wec) {
          if (!wec && acceptor->is_open()) accept();
        });
        return;
      }
      if (accept_failing) {
        last_accept_success = Clock::now();
        arm_recovery_check();
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::post(target.ioc, [this, &target, s = std::move(socket)]() mutable {
        detail::hand_over(std::move(s), target, shared);
      });
      accept();
    });
  }

  // Ends the episode once a quiet second has passed since its last failure, provided an accept
  // has succeeded since; otherwise the next success arms the check again.
  void arm_recovery_check() {
    if (recovery_armed) return;
    recovery_armed = true;
    if (!accept_recovery) accept_recovery.emplace(workers.front()->ioc);
    accept_recovery->expires_at(last_accept_failure + kAcceptQuiet);
    accept_recovery->async_wait([this](beast::error_code ec) {
      recovery_armed = false;
      if (ec || !acceptor->is_open()) return;
      if (Clock::now() - last_accept_failure >= kAcceptQuiet) {
        spdlog::info("accepting connections again");
        accept_failing = false;
      } else if (last_accept_success > last_accept_failure) {
        arm_recovery_check();
      }
    });
  }
};

Server::Server(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->shared.options = std::move(options);
  impl_->shared.handler = std::move(handler);
  auto& opts = impl_->shared.options;
  if (!opts.upstream_ca_file.empty()) impl_->shared.upstream_tls(); // a bad --upstream-ca fails now, not mid-run
  if (opts.upstream_insecure) spdlog::warn("https upstreams are not verified (--upstream-insecure)");
  if (opts.authority) impl_->shared.tls_termination = std::make_unique<detail::TlsTermination>(opts);
  unsigned threads = opts.threads ? opts.threads : usable_cores();
  // Exchanges allocate and free buffers of a few KiB per request on every worker; glibc would
  // otherwise hand the top of each thread's heap back to the kernel (madvise) many times a second.
  ::mallopt(M_TRIM_THRESHOLD, 256 << 20);
  ::mallopt(M_MMAP_THRESHOLD, 64 << 20);
  for (unsigned i = 0; i < threads; ++i) impl_->workers.push_back(std::make_unique<detail::Worker>());

  auto hp = parse_host_port(opts.listen);
  if (!hp) throw UsageError("listen address '" + opts.listen + "': expected HOST:PORT");
  beast::error_code ec;
  auto address = asio::ip::make_address(hp->host == "localhost" ? "127.0.0.1" : hp->host, ec);
  if (ec) throw UsageError("listen address '" + opts.listen + "': '" + hp->host + "' is not an IP address");
  tcp::endpoint endpoint(address, hp->port);
  auto& acceptor = impl_->acceptor.emplace(impl_->workers.front()->ioc);
  auto check = [&](const char* what) {
    if (ec) throw Error("cannot listen on " + opts.listen + ": " + what + ": " + ec.message());
  };
  acceptor.open(endpoint.protocol(), ec);
  check("open");
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  check("setsockopt");
  acceptor.bind(endpoint, ec);
  check("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  check("listen");
}

Server::~Server() { stop(); }

std::string Server::bound_address() const {
  auto endpoint = impl_->acceptor->local_endpoint();
  auto address = endpoint.address();
  std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

void Server::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->accept();
  for (auto& worker : impl_->workers) {
    worker->guard.emplace(worker->ioc.get_executor());
    worker->thread = std::thread([w = worker.get()] {
      w->start_sweeping();
      w->ioc.run();
    });
  }
}

void Server::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (impl_->started) {
    asio::post(impl_->workers.front()->ioc, [this] {
      beast::error_code ignored;
      impl_->acceptor->close(ignored);
    });
  }
  for (auto& worker : impl_->workers) {
    worker->guard.reset();
    worker->ioc.stop();
  }
  for (auto& worker : impl_->workers)
    if (worker->thread.joinable()) worker->thread.join();
  impl_->accept_backoff.reset(); // timers and the acceptor go before the io_contexts they use
  impl_->accept_recovery.reset();
  impl_->acceptor.reset();
  impl_->workers.clear();
}

} // namespace gostly::http
