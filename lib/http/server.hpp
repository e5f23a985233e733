#pragma once
// The HTTP/1.1 server and upstream client behind a plain C++ interface (no Beast here, so tools
// and lib/serve compile fast). A Server owns N worker threads, each with its own event loop and
// its own upstream connection pool; a connection lives on one worker for its whole life, so the
// handler, the upstream callback and the reply of one exchange all run on the same thread.
#include "http/message.hpp"
#include "record/interaction.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace gostly::http {

namespace detail {
class Connection;
}

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";       // HOST:PORT, port 0 = pick a free one
  unsigned threads = 0;                        // 0 = one per core
  std::uint64_t max_body = 64ull << 20;        // request (and upstream response) body limit -> 413
  std::chrono::milliseconds idle_timeout{60000};   // waiting for (the headers of) the next request
  std::chrono::milliseconds body_timeout{60000};   // reading a request body
  std::chrono::milliseconds upstream_timeout{30000}; // connect, and then the whole response
  std::size_t max_idle_upstream_per_host = 64;
  // https:// upstreams: the system trust store (and SSL_CERT_FILE / SSL_CERT_DIR) plus this PEM
  // file when given; `upstream_insecure` skips certificate and host name checks (self-signed
  // staging hosts), loudly.
  std::string upstream_ca_file;
  bool upstream_insecure = false;
};

/// Why a forward failed; `none` means `response` holds the upstream's answer.
enum class UpstreamFailure { none, unreachable, timeout, bad_response, too_large, tls };

struct UpstreamResult {
  UpstreamFailure failure = UpstreamFailure::none;
  std::string detail;            // e.g. "connect 127.0.0.1:1: Connection refused"
  record::Response response;     // hop-by-hop headers removed; body byte for byte (not decoded)
  double duration_ms = 0;
  bool reused_connection = false;
};

/// The JSON error reply for a failed forward: 502 (unreachable, bad or oversized response) or
/// 504 (timeout), whose body names the upstream and what failed.
std::string upstream_failure_response(const UpstreamResult& result, const std::string& upstream);

/// Per-request handle given to the handler. Exactly one send() must be called, immediately or
/// later from a forward() callback (both run on the connection's worker thread).
class Responder {
public:
  explicit Responder(std::shared_ptr<detail::Connection> connection) noexcept;

  /// Sends complete HTTP/1.1 response bytes.
  void send(std::string bytes);
  /// Sends shared, pre-serialized bytes without copying them (the MOCK fast path).
  void send(std::shared_ptr<const std::string> prepared);
  /// Serializes `response` (see serialize_response) with `extra` headers and sends it; honours
  /// HEAD requests and Connection: close.
  void send(const record::Response& response, const record::Headers& extra = {});

  /// Forwards `request` (origin-form uri, end-to-end headers) to `upstream`, reusing a pooled
  /// connection when one is idle. `done` runs on this worker thread with the outcome; it never
  /// runs later than the upstream timeout.
  void forward(const Url& upstream, const record::Request& request, std::function<void(UpstreamResult&&)> done);

  /// True when the request was HEAD (a prepared reply must then be cut after its headers).
  bool head_request() const noexcept;
  /// True when the client wants the connection closed after this reply.
  bool closing() const noexcept;
  /// True when the request target was absolute-form (`GET http://host/path`: the client uses
  /// this server as its HTTP_PROXY), false for origin-form (`GET /path`: it was pointed here).
  bool absolute_form() const noexcept;

  /// Runs `fn` on this connection's worker thread after the completions that are ready now
  /// (asio::post): lets a caller gather the work of one event-loop turn and do it once, such as
  /// one disk write for every interaction recorded in that turn.
  void defer(std::function<void()> fn);

private:
  std::shared_ptr<detail::Connection> connection_;
};

/// Called on a worker thread for each complete request. `request.uri` is origin-form, `host` is
/// the Host header or the authority of an absolute-form target, `body` the de-chunked bytes.
/// The handler may move out of `request`.
using Handler = std::function<void(record::Request& request, Responder responder)>;

class Server {
public:
  /// Binds `options.listen` at once (throws gostly::Error when it cannot; UsageError when
  /// `upstream_ca_file` cannot be read); serves after start().
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// `HOST:PORT` actually bound (the picked port when 0 was asked for).
  std::string bound_address() const;
  void start();
  /// Stops accepting, closes connections, joins the worker threads. Idempotent.
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace gostly::http
