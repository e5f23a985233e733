#pragma once
// The HTTP/1.1 server and upstream client behind a plain C++ interface (no Beast here, so tools
// and lib/serve compile fast). A Server owns N worker threads, each with its own event loop and
// its own upstream connection pool; a connection lives on one worker for its whole life, so the
// handler, the upstream callback and the reply of one exchange all run on the same thread.
#include "http/message.hpp"
#include "record/interaction.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace gostly::tls {
class CertificateAuthority;
}

namespace gostly::http {

namespace detail {
class Exchange;
}

/// What the proxy did to reach upstreams (gostly_upstream_*_total): a MOCK run shows it never did.
/// Counted when tried, whether or not it succeeded; bumped only when a connection is opened, never
/// per request on a pooled one.
struct UpstreamCounters {
  std::atomic<std::uint64_t> connections{0};    // TCP connects (forwards, upgrades, CONNECT relays)
  std::atomic<std::uint64_t> resolutions{0};    // name lookups (an IP address needs none)
  std::atomic<std::uint64_t> tls_handshakes{0}; // client handshakes with https:// upstreams
};

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";       // HOST:PORT, port 0 = pick a free one
  unsigned threads = 0;                        // 0 = one per core
  // Request body limit -> 413. An upstream response body past it is a 502 when it is read whole
  // (a protocol that does not stream); a streamed one goes on whole and only this much is kept.
  std::uint64_t max_body = 64ull << 20;
  std::chrono::milliseconds idle_timeout{60000};   // waiting for (the headers of) the next request
  std::chrono::milliseconds body_timeout{60000};   // reading a request body
  // Connect, send and get the response head (with the whole body when it is read whole); then,
  // for a streamed body, the longest wait for its next piece.
  std::chrono::milliseconds upstream_timeout{30000};
  std::size_t max_idle_upstream_per_host = 64;
  // https:// upstreams: the system trust store (and SSL_CERT_FILE / SSL_CERT_DIR) plus this PEM
  // file when given; `upstream_insecure` skips certificate and host name checks (self-signed
  // staging hosts), loudly.
  std::string upstream_ca_file;
  bool upstream_insecure = false;
  // TLS interception. With an authority, a CONNECT the handler accepts is answered 200 and the
  // client's TLS is terminated with a leaf minted for the SNI name (ALPN h2 or http/1.1).
  // `takes_tls`: this listener also takes TLS directly (its first byte is a ClientHello).
  std::shared_ptr<tls::CertificateAuthority> authority;
  bool takes_tls = false;
  std::function<void(bool ok)> on_handshake; // every client handshake, for the metrics
  std::shared_ptr<UpstreamCounters> upstream_counters; // optional; shared by listeners that forward
};

/// A CONNECT tunnel relayed untouched, once it has closed.
struct TunnelStats {
  std::string authority;          // host:port
  std::uint64_t bytes_up = 0;     // client -> upstream
  std::uint64_t bytes_down = 0;   // upstream -> client
  double duration_ms = 0;
  std::string error;              // "" when both sides closed cleanly
};
using TunnelDone = std::function<void(const TunnelStats&)>;

/// One WebSocket frame (RFC 6455 5.2) seen by a relayed upgrade, its payload unmasked.
struct WebSocketFrame {
  bool from_client = true;
  std::uint8_t opcode = 0;     // 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong
  bool fin = true;
  std::uint64_t length = 0;    // the payload length the frame announced
  std::string payload;         // its first GOSTLY_WS_MAX_FRAME_RECORD bytes
  bool truncated = false;      // payload holds less than `length` (or its inflated bytes)
  bool compressed = false;     // permessage-deflate (RFC 7692): `payload` is the inflated bytes
};

/// Why a forward failed; `none` means `response` holds the upstream's answer.
enum class UpstreamFailure { none, unreachable, timeout, bad_response, too_large, tls };

struct UpstreamResult {
  UpstreamFailure failure = UpstreamFailure::none;
  std::string detail;            // e.g. "connect 127.0.0.1:1: Connection refused"
  record::Response response;     // hop-by-hop headers removed; body byte for byte (not decoded)
  double duration_ms = 0;
  bool reused_connection = false;
  // The body went to the client piece by piece as it arrived: the reply is done (send() must not
  // be called), `response` is what to record.
  bool streamed = false;
  std::string truncated_by;      // "" when `response.body` is whole, else "max-body", "client" or "upstream"
  std::uint64_t body_bytes = 0;  // streamed: the body bytes the client was sent
};

/// A relayed upgrade's callbacks (all on the connection's worker thread): `answered` with the
/// upstream's answer before the client gets it (a 101 with its headers as received, another
/// response, or a failure), `on_frame` for each complete frame, `done` once the relay closed.
struct UpgradeHandlers {
  std::function<void(const UpstreamResult&)> answered;
  std::function<void(const WebSocketFrame&)> on_frame;
  TunnelDone done;
};

/// The JSON error reply for a failed forward: 502 (unreachable, bad or oversized response) or
/// 504 (timeout), whose body names the upstream and what failed.
std::string upstream_failure_response(const UpstreamResult& result, const std::string& upstream);

/// Per-request handle given to the handler. Exactly one send() must be called, immediately or
/// later from a forward() callback (both run on the connection's worker thread).
class Responder {
public:
  explicit Responder(std::shared_ptr<detail::Exchange> exchange) noexcept;

  /// Sends complete HTTP/1.1 response bytes.
  void send(std::string bytes);
  /// Sends shared, pre-serialized bytes without copying them (the MOCK fast path).
  void send(std::shared_ptr<const std::string> prepared);
  /// Serializes `response` (see serialize_response) with `extra` headers and sends it; honours
  /// HEAD requests and Connection: close.
  void send(const record::Response& response, const record::Headers& extra = {});

  /// Forwards `request` (origin-form uri, end-to-end headers) to `upstream`, reusing a pooled
  /// connection when one is idle. `done` runs on this worker thread with the outcome, within the
  /// upstream timeout unless the body streams: a body not complete with its head goes to the
  /// client as it arrives (over HTTP/1.1), and `done` gets a result marked `streamed` at its end.
  void forward(const Url& upstream, const record::Request& request, std::function<void(UpstreamResult&&)> done);

  /// True when the request was HEAD (a prepared reply must then be cut after its headers).
  bool head_request() const noexcept;
  /// True when the client wants the connection closed after this reply.
  bool closing() const noexcept;
  /// True when the client named the API itself: an absolute-form target (`GET http://host/path`,
  /// it uses this server as its HTTP_PROXY) or a request inside a CONNECT tunnel; false when it
  /// was pointed here (origin-form on the listener, or TLS straight to --tls-listen).
  bool named_host() const noexcept;

  /// Answers a CONNECT request (method CONNECT, `request.host` its authority): `200 Connection
  /// Established`, then the tunnel's TLS is terminated and the requests inside come to the
  /// handler with scheme https and the CONNECT host (`intercept`), or the bytes are relayed to
  /// the authority untouched and `done` runs when the tunnel closes. Needs
  /// ServerOptions::authority for `intercept`; a protocol that cannot carry a tunnel answers 405.
  void open_tunnel(bool intercept, TunnelDone done = {});

  /// Relays a WebSocket upgrade (see is_websocket_upgrade) to `upstream`, which is connected
  /// and verified like any upstream: the request goes with its Upgrade/Connection/Sec-WebSocket-*
  /// headers, the answer comes back as received (a 101 keeps Upgrade, Connection and
  /// Sec-WebSocket-*; anything else is a normal response), and after a 101 the bytes go both
  /// ways untouched while each frame is reported. The relay ends when both sides closed, on an
  /// error, or after the idle timeout without a byte either way. HTTP/1.1 only: another
  /// protocol answers 501.
  void relay_upgrade(const Url& upstream, const record::Request& request, UpgradeHandlers handlers);

  /// Runs `fn` on this connection's worker thread after the completions that are ready now
  /// (asio::post): lets a caller gather the work of one event-loop turn and do it once, such as
  /// one disk write for every interaction recorded in that turn.
  void defer(std::function<void()> fn);
  /// Runs `fn` on this connection's worker thread once `delay` has passed (an Asio timer: the
  /// worker serves its other connections meanwhile), for a reply that must come late.
  void after(std::chrono::milliseconds delay, std::function<void()> fn);
  /// Gives no answer: HTTP/1.1 closes the connection, HTTP/2 resets the stream (RST_STREAM
  /// INTERNAL_ERROR) and the connection's other streams go on.
  void drop();

private:
  std::shared_ptr<detail::Exchange> exchange_;
};

/// Called on a worker thread for each complete request. `request.uri` is origin-form, `host` is
/// the Host header or the authority of an absolute-form target (of the CONNECT for a tunnel, and
/// for CONNECT itself), `scheme` https inside terminated TLS, `body` the de-chunked bytes.
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
