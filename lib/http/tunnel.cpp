// A CONNECT tunnel relayed untouched (--no-intercept hosts): bytes both ways, counted, nothing
// decrypted. Either side's end of stream is passed on as a half-close, and the tunnel ends when
// both directions have ended, on an error, or after the idle timeout without a byte either way.
#include "http/internal.hpp"

#include <array>
#include <spdlog/spdlog.h>

namespace gostly::http::detail {

namespace {

class Tunnel final : public Expiring, public std::enable_shared_from_this<Tunnel> {
public:
  Tunnel(Socket client, std::string early_bytes, Worker& worker, const Shared& shared, std::string authority,
         TunnelDone done)
      : client_(std::move(client)), upstream_(worker.ioc), resolver_(worker.ioc), worker_(worker), shared_(shared),
        early_(std::move(early_bytes)), done_(std::move(done)) {
    stats_.authority = std::move(authority);
  }
  ~Tunnel() override { worker_.connections.erase(static_cast<Expiring*>(this)); }

  void start() {
    worker_.connections.insert(static_cast<Expiring*>(this));
    started_ = Clock::now();
    deadline_ = started_ + shared_.options.upstream_timeout;
    auto hp = parse_host_port(stats_.authority);
    if (!hp || hp->port == 0) return finish("CONNECT target '" + stats_.authority + "' is not HOST:PORT");
    if (auto& counters = shared_.options.upstream_counters) {
      counters->connections.fetch_add(1, std::memory_order_relaxed);
      beast::error_code not_an_address;
      asio::ip::make_address(hp->host, not_an_address);
      if (not_an_address) counters->resolutions.fetch_add(1, std::memory_order_relaxed);
    }
    resolver_.async_resolve(hp->host, std::to_string(hp->port),
                            [self = shared_from_this()](beast::error_code ec, Resolver::results_type results) {
                              if (ec) return self->finish("resolve: " + ec.message());
                              asio::async_connect(self->upstream_, results,
                                                  [self](beast::error_code cec, const tcp::endpoint&) { self->on_connect(cec); });
                            });
  }

  void expire_if_due(Clock::time_point now) override {
    if (now < deadline_) return;
    deadline_ = Clock::time_point::max();
    error_ = "idle for longer than the timeout";
    beast::error_code ignored;
    client_.cancel(ignored);
    upstream_.cancel(ignored);
  }

private:
  struct Direction {
    Socket* from;
    Socket* to;
    std::array<char, 16 * 1024> buffer;
    std::uint64_t* counter;
    bool done = false;
  };

  void on_connect(beast::error_code ec) {
    if (ec) return finish("connect: " + ec.message());
    upstream_.set_option(tcp::no_delay(true), ec);
    touch();
    up_ = {&client_, &upstream_, {}, &stats_.bytes_up};
    down_ = {&upstream_, &client_, {}, &stats_.bytes_down};
    if (!early_.empty()) {
      stats_.bytes_up += early_.size();
      asio::async_write(upstream_, asio::buffer(early_), [self = shared_from_this()](beast::error_code wec, std::size_t) {
        if (wec) return self->fail("write: " + wec.message());
        self->pump(self->up_);
      });
    } else {
      pump(up_);
    }
    pump(down_);
  }

  void pump(Direction& d) {
    d.from->async_read_some(asio::buffer(d.buffer), [self = shared_from_this(), &d](beast::error_code ec, std::size_t n) {
      self->touch();
      if (ec == asio::error::eof) {
        beast::error_code ignored;
        d.to->shutdown(tcp::socket::shutdown_send, ignored); // pass the half-close on
        d.done = true;
        return self->maybe_finish();
      }
      if (ec) return self->fail(ec == asio::error::operation_aborted ? std::string() : "read: " + ec.message());
      *d.counter += n;
      asio::async_write(*d.to, asio::buffer(d.buffer.data(), n), [self, &d](beast::error_code wec, std::size_t) {
        if (wec) return self->fail("write: " + wec.message());
        self->pump(d);
      });
    });
  }

  void touch() { deadline_ = Clock::now() + shared_.options.idle_timeout; }

  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    up_.done = down_.done = true;
    maybe_finish();
  }

  void maybe_finish() {
    if (up_.done && down_.done) finish(error_);
  }

  void finish(std::string error) {
    if (finished_) return;
    finished_ = true;
    deadline_ = Clock::time_point::max();
    beast::error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
    stats_.error = std::move(error);
    stats_.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    if (!stats_.error.empty()) spdlog::debug("tunnel to {}: {}", stats_.authority, stats_.error);
    if (done_) done_(stats_);
  }

  Socket client_;
  Socket upstream_;
  Resolver resolver_;
  Worker& worker_;
  const Shared& shared_;
  std::string early_;
  TunnelDone done_;
  TunnelStats stats_;
  Direction up_{};
  Direction down_{};
  std::string error_;
  bool finished_ = false;
  Clock::time_point started_;
  Clock::time_point deadline_ = Clock::time_point::max();
};

} // namespace

void relay_tunnel(Socket socket, std::string early_bytes, Worker& worker, const Shared& shared, const std::string& authority,
                  TunnelDone done) {
  std::make_shared<Tunnel>(std::move(socket), std::move(early_bytes), worker, shared, authority, std::move(done))->start();
}

} // namespace gostly::http::detail
