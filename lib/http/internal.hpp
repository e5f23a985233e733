#pragma once
// What lib/http's connection types share, for lib/http's .cpp files only (Beast and Asio are in
// sight here). One connection type per protocol lives in its own file (connection_http1.cpp,
// connection_h2.cpp, tunnel.cpp, websocket.cpp); each turns what it reads into record::Requests
// for the one Handler, through an Exchange, and server.cpp's acceptor plus handover.cpp's
// sniffing decide which type gets a socket.
#include "http/parsing.hpp"
#include "http/server.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

struct ssl_ctx_st;

namespace gostly::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

inline std::string_view sv(beast::string_view s) noexcept { return {s.data(), s.size()}; }

// Sockets and streams name their worker's executor type instead of the type-erased
// any_io_executor: every async operation copies and queries its executor, and the type erasure
// cost about a tenth of the instructions of a forwarded request.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using TcpStream = beast::basic_stream<tcp, Executor, beast::unlimited_rate_policy>;
using Resolver = asio::ip::basic_resolver<tcp, Executor>;
using TlsStream = beast::ssl_stream<TcpStream>;
using UpstreamStream = std::variant<TcpStream, TlsStream>;
/// A client connection whose TLS gostly terminates (CONNECT + MITM, or --tls-listen).
using ClientTlsStream = asio::ssl::stream<Socket>;

inline TcpStream& tcp_layer(UpstreamStream& stream) {
  return std::visit([](auto& s) -> TcpStream& { return beast::get_lowest_layer(s); }, stream);
}
inline Socket& socket_of(Socket& socket) noexcept { return socket; }
inline Socket& socket_of(ClientTlsStream& stream) noexcept { return stream.next_layer(); }

class UpstreamPool {
public:
  std::optional<UpstreamStream> take(const std::string& key);
  void give(const std::string& key, UpstreamStream stream, std::size_t max_idle);

private:
  std::unordered_map<std::string, std::vector<UpstreamStream>> idle_;
};

/// Anything the per-worker sweep closes when its deadline passes.
class Expiring {
public:
  virtual ~Expiring() = default;
  virtual void expire_if_due(Clock::time_point now) = 0;
};

// Client connections keep their deadline in a plain field that one coarse timer per worker
// checks (the sweep), instead of a Beast timer per read and write: re-arming a timer costs a
// timerfd_settime() syscall per operation, a third of all syscalls of a mocked request.
inline constexpr auto kSweepInterval = std::chrono::milliseconds(250);

struct Worker {
  // Declared first so it outlives the io_context, whose pending handlers may destroy connections.
  std::unordered_set<Expiring*> connections; // touched only on this worker's thread
  asio::io_context ioc{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  UpstreamPool pool;
  std::thread thread;
  std::optional<asio::steady_timer> sweeper;
  void start_sweeping();
};

/// The TLS server side: one context whose SNI callback presents a leaf minted for the name, and
/// whose ALPN callback picks h2 when the client offers it.
class TlsTermination {
public:
  explicit TlsTermination(const ServerOptions& options);
  ~TlsTermination();
  asio::ssl::context& context() noexcept { return context_; }
  bool offers_h2() const noexcept { return true; }
  void count_handshake(bool ok) const;
  /// Logs a refused certificate once per host, with the hint that helps (pinning, trust).
  void log_refusal(const std::string& host, const std::string& detail);

private:
  const ServerOptions& options_;
  asio::ssl::context context_;
  std::mutex refused_mutex_;
  std::set<std::string> refused_hosts_;
};

struct Shared {
  ServerOptions options;
  Handler handler;
  std::unique_ptr<TlsTermination> tls_termination; // set when options.authority is

  /// The client context for https:// upstreams, built on first use: loading the system trust
  /// store costs about 0.1 s and a megabyte that a server with plain upstreams need not pay.
  asio::ssl::context& upstream_tls() const;

private:
  mutable std::once_flag tls_once;
  mutable std::unique_ptr<asio::ssl::context> tls;
};

/// One request being answered, whatever the protocol that carried it: the Responder's other half.
class Exchange {
public:
  virtual ~Exchange() = default;
  /// Complete HTTP/1.1 response bytes (a protocol that is not HTTP/1.1 re-frames them).
  virtual void reply(std::string bytes) = 0;
  /// Shared, pre-serialized HTTP/1.1 bytes (the MOCK fast path), not copied.
  virtual void reply(std::shared_ptr<const std::string> prepared) = 0;
  virtual void reply(const record::Response& response, const record::Headers& extra) = 0;
  /// No reply at all (Responder::drop): the connection closed, or the stream reset.
  virtual void drop() = 0;
  virtual bool head() const noexcept = 0;
  virtual bool closing() const noexcept = 0;
  virtual bool named_host() const noexcept = 0;
  virtual Worker& worker() noexcept = 0;
  virtual const Shared& shared() const noexcept = 0;
  /// Answers a CONNECT: 200, then TLS is terminated inside the tunnel (or the bytes relayed when
  /// `intercept` is false). A protocol that cannot carry a tunnel answers 405.
  virtual void open_tunnel(bool intercept, TunnelDone done);

  // Streaming (LEARN and PASSTHROUGH): an upstream response whose body is not complete with its
  // head goes on piece by piece as it arrives. A protocol that does not override these keeps
  // the buffered behaviour: the upstream call reads the whole response (within --max-body) and
  // the handler replies with it.
  using Written = std::function<void(bool ok)>; // ok false: the client is gone
  virtual bool streams() const noexcept { return false; }
  /// Sends the head of `response` (its body is ignored; Content-Length kept when `length_known`,
  /// else the protocol's own framing), then `piece`. From here on the reply is this stream:
  /// reply() does nothing. `written` runs once the bytes are out; `piece` must live until then.
  virtual void stream_head(const record::Response& response, bool length_known, std::string_view piece, Written written) {
    (void)response, (void)length_known, (void)piece;
    written(false);
  }
  /// The next piece of the body (not empty), under the same rules.
  virtual void stream_piece(std::string_view piece, Written written) {
    (void)piece;
    written(false);
  }
  /// The body is over; `complete` false when it ended early (the upstream failed or timed out),
  /// so the client must see it cut, not ended.
  virtual void stream_end(bool complete) { (void)complete; }
  /// Relays a WebSocket upgrade (Responder::relay_upgrade); a protocol that cannot answers 501.
  virtual void relay_upgrade(const Url& upstream, const record::Request& request, UpgradeHandlers handlers);
};

/// Forwards `request` to `upstream` on `worker` (see Responder::forward).
/// With a `client` that streams(), a body still arriving after its head goes on to it as it comes.
void start_upstream_call(Worker& worker, const Shared& shared, const Url& upstream, const record::Request& request,
                         std::function<void(UpstreamResult&&)> done, std::shared_ptr<Exchange> client = nullptr);

/// The upstream side of a WebSocket upgrade that was answered 101: the answer (headers as
/// received), the connection, and any bytes the upstream sent after the head.
using Upgraded = std::function<void(UpstreamResult&& answer, UpstreamStream stream, std::string early)>;
/// Sends the upgrade `request` to `upstream` (connected and verified like a forward, with its
/// Connection/Upgrade headers): a 101 goes to `upgraded`, any other answer or a failure to `done`.
void start_upstream_upgrade(Worker& worker, const Shared& shared, const Url& upstream, const record::Request& request,
                            std::function<void(UpstreamResult&&)> done, Upgraded upgraded);

// ---- connection types and the hand-over between them ----

/// What a connection knows about how its client reached it.
struct Origin {
  std::string scheme = "http";
  std::string authority;     // CONNECT target or SNI name; "" for a plain connection
  bool named_host = false;   // the client named the API (CONNECT), not this server
};

/// Serves HTTP/1.1 on a plain socket.
void serve_http1(Socket socket, Worker& worker, const Shared& shared, Origin origin = {});
/// Serves HTTP/1.1 inside TLS that gostly terminated.
void serve_http1(std::unique_ptr<ClientTlsStream> stream, Worker& worker, const Shared& shared, Origin origin);
/// Serves HTTP/2 inside TLS that gostly terminated (ALPN picked h2), many streams at once.
void serve_h2(std::unique_ptr<ClientTlsStream> stream, Worker& worker, const Shared& shared, Origin origin);
/// Terminates TLS on `socket` (its first byte is a ClientHello) and hands the decrypted stream to
/// HTTP/2 or HTTP/1.1 by ALPN. `origin.authority` is the CONNECT target, "" for --tls-listen.
void terminate_tls(Socket socket, Worker& worker, const Shared& shared, Origin origin);
/// Relays bytes between `socket` and `authority` untouched (--no-intercept hosts).
void relay_tunnel(Socket socket, std::string early_bytes, Worker& worker, const Shared& shared,
                  const std::string& authority, TunnelDone done);
/// The 101 head relayed to the client: the upstream's status line and headers as received.
std::string upgrade_head(const record::Response& answer);
/// True when the 101 `answer` agreed on permessage-deflate (RFC 7692).
bool negotiated_deflate(const record::Response& answer);
/// Relays the frames of an upgraded connection both ways untouched (websocket.cpp), reporting
/// each frame; `client_early`/`upstream_early` were read past the heads and go on first.
void relay_websocket(std::unique_ptr<Socket> client, std::string client_early, UpstreamStream upstream,
                     std::string upstream_early, Worker& worker, const Shared& shared, std::string authority,
                     bool deflate, UpgradeHandlers handlers);
void relay_websocket(std::unique_ptr<ClientTlsStream> client, std::string client_early, UpstreamStream upstream,
                     std::string upstream_early, Worker& worker, const Shared& shared, std::string authority,
                     bool deflate, UpgradeHandlers handlers);
/// A new connection on a listener: sniffs its first byte when the listener takes TLS directly.
void hand_over(Socket socket, Worker& worker, const Shared& shared);

} // namespace gostly::http::detail
