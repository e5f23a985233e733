// The proxy's connection handling and upstream client, on Beast/Asio.
//
// Threading. Each worker owns one io_context run by one thread, plus its own pool of idle
// upstream connections. The acceptor hands each new socket to the next worker in turn, and the
// connection stays there: its reads, the handler, the upstream exchange it may start, and the
// reply all run on that one thread, so nothing here needs a lock or a strand, and the upstream
// pool is a plain map. A worker that is busy only delays its own connections.
//
// One connection, one request at a time. A Connection reads the headers of a request (with the
// idle timeout), answers `Expect: 100-continue`, reads the body (with the body limit: a
// Content-Length over it fails before any body byte is read, a chunked body fails when it grows
// past it; both get 413 and the connection closes), converts the message to a record::Request
// and calls the handler. Pipelined requests wait in the read buffer until the reply to the
// current one is written, which bounds a pipeline by the buffer, not by a queue of replies.
// Replies are always complete wire bytes written with one async_write: either a string the
// connection owns or shared, pre-serialized bytes from the mock library, which are not copied.
//
// Upstream calls. An UpstreamCall takes an idle pooled connection for host:port when there is
// one, else resolves and connects. One deadline covers connect, write and read, so a forward never
// outlives the upstream timeout. If a reused connection fails before any response byte arrives
// (the upstream closed it while idle) the call retries once on a fresh connection. A response is
// read whole (bounded by the body limit) and its connection goes back to the pool only when the
// upstream keeps it alive and nothing extra is buffered. Failures come back as values (no
// exceptions cross an Asio handler): unreachable/bad response -> 502, timeout -> 504.
//
// https:// upstreams. The same exchange runs over beast::ssl_stream after a TLS handshake that
// sends SNI and checks the certificate chain and the host name (RFC 6125) against the system
// trust store plus --upstream-ca; a failed handshake is a 502 whose detail says why (expired,
// unknown issuer, wrong host), never a silent plaintext fallback. Pooled connections are keyed
// by scheme, host and port, so a TLS session is reused across requests like a TCP one.
#include "http/server.hpp"

#include "http/parsing.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"

#include <atomic>
#include <mutex>
#include <optional>
#include <spdlog/spdlog.h>
#include <malloc.h>
#include <sched.h>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <variant>

namespace gostly::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
// The cores this process may run on (taskset, cgroup cpusets), not the machine's: more workers
// than usable cores only time-slice against each other and lengthen the latency tail.
unsigned usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// A connection's read buffer grows to kReadBufferLimit only for a big head; past this it is
// given back before the next request, so an idle connection keeps a few KiB at most.
constexpr std::size_t kIdleBufferKeep = 16 * 1024;

std::string_view sv(beast::string_view s) noexcept { return {s.data(), s.size()}; }

// Sockets and streams name their worker's executor type instead of the type-erased
// any_io_executor: every async operation copies and queries its executor, and the type erasure
// cost about a tenth of the instructions of a forwarded request.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using TcpStream = beast::basic_stream<tcp, Executor, beast::unlimited_rate_policy>;
using Resolver = asio::ip::basic_resolver<tcp, Executor>;
using TlsStream = beast::ssl_stream<TcpStream>;
using UpstreamStream = std::variant<TcpStream, TlsStream>;

TcpStream& tcp_layer(UpstreamStream& stream) {
  return std::visit([](auto& s) -> TcpStream& { return beast::get_lowest_layer(s); }, stream);
}

class UpstreamPool {
public:
  std::optional<UpstreamStream> take(const std::string& key) {
    auto it = idle_.find(key);
    if (it == idle_.end() || it->second.empty()) return std::nullopt;
    UpstreamStream stream = std::move(it->second.back());
    it->second.pop_back();
    return stream;
  }
  void give(const std::string& key, UpstreamStream stream, std::size_t max_idle) {
    auto& list = idle_[key];
    if (list.size() >= max_idle) return; // dropping it closes it
    tcp_layer(stream).expires_never();
    list.push_back(std::move(stream));
  }

private:
  std::unordered_map<std::string, std::vector<UpstreamStream>> idle_;
};

// One client context for every worker: OpenSSL's SSL_CTX is safe to share once configured.
std::unique_ptr<asio::ssl::context> make_upstream_tls_context(const ServerOptions& options) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  beast::error_code ec;
  context->set_default_verify_paths(ec); // also honours SSL_CERT_FILE and SSL_CERT_DIR
  if (!options.upstream_ca_file.empty()) {
    context->load_verify_file(options.upstream_ca_file, ec);
    if (ec) throw UsageError("--upstream-ca '" + options.upstream_ca_file + "': cannot load PEM certificates: " + ec.message());
  }
  context->set_verify_mode(options.upstream_insecure ? asio::ssl::verify_none : asio::ssl::verify_peer);
  return context;
}

// Why a handshake failed, in words a user can act on: OpenSSL's verify result when the chain or
// the name was refused, else its error string.
std::string tls_failure_detail(TlsStream& stream, beast::error_code ec) {
  long verify = SSL_get_verify_result(stream.native_handle());
  if (verify != X509_V_OK) return std::string("certificate refused: ") + X509_verify_cert_error_string(verify);
  return ec.message();
}

} // namespace

namespace detail {

class Connection;

// Client connections keep their deadline in a plain field that one coarse timer per worker
// checks (the sweep), instead of a Beast timer per read and write: re-arming a timer costs a
// timerfd_settime() syscall per operation, a third of all syscalls of a mocked request.
constexpr auto kSweepInterval = std::chrono::milliseconds(250);

struct Worker {
  // Declared first so it outlives the io_context, whose pending handlers may destroy connections.
  std::unordered_set<Connection*> connections; // touched only on this worker's thread
  asio::io_context ioc{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  UpstreamPool pool;
  std::thread thread;
  std::optional<asio::steady_timer> sweeper;
  void start_sweeping();
};

struct Shared {
  ServerOptions options;
  Handler handler;

  /// The client context for https:// upstreams, built on first use: loading the system trust
  /// store costs about 0.1 s and a megabyte that a server with plain upstreams need not pay.
  asio::ssl::context& upstream_tls() const {
    std::call_once(tls_once, [this] { tls = make_upstream_tls_context(options); });
    return *tls;
  }

private:
  mutable std::once_flag tls_once;
  mutable std::unique_ptr<asio::ssl::context> tls;
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
  Connection(Socket socket, Worker& worker, const Shared& shared)
      : socket_(std::move(socket)), worker_(worker), shared_(shared) {}
  ~Connection() { worker_.connections.erase(this); }

  void start() {
    worker_.connections.insert(this);
    read_header();
  }

  /// Called by the sweep: closes the connection when its deadline has passed.
  void expire_if_due(Clock::time_point now) {
    if (now < deadline_ || !socket_.is_open()) return;
    timed_out_ = true;
    deadline_ = Clock::time_point::max();
    beast::error_code ignored;
    socket_.cancel(ignored);
  }

  void reply(std::string bytes) {
    if (replied_) return;
    out_owned_ = std::move(bytes);
    write_reply(out_owned_);
  }
  void reply(std::shared_ptr<const std::string> prepared) {
    if (replied_ || !prepared) return;
    out_shared_ = std::move(prepared);
    std::string_view bytes = *out_shared_;
    if (head_) bytes = bytes.substr(0, std::min(bytes.size(), bytes.find("\r\n\r\n") + 4));
    write_reply(bytes);
  }

  Worker& worker() noexcept { return worker_; }
  const Shared& shared() const noexcept { return shared_; }
  bool head() const noexcept { return head_; }
  bool closing() const noexcept { return close_; }
  bool absolute_form() const noexcept { return absolute_form_; }

private:
  void read_header() {
    parser_.emplace();
    configure(*parser_, shared_.options.max_body);
    if (buffer_.capacity() > kIdleBufferKeep) buffer_.shrink_to_fit();
    replied_ = false;
    deadline_ = Clock::now() + shared_.options.idle_timeout;
    bhttp::async_read_header(socket_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return fail_read(ec);
    // Before any body byte is read: framing another parser could read differently (request
    // smuggling), too many fields, a length over the limit.
    if (auto refusal = check_request_head(*parser_, shared_.options.max_body); refusal.status) return refuse(refusal);
    auto& message = parser_->get();
    close_ = !message.keep_alive();
    head_ = message.method() == bhttp::verb::head;
    if (parser_->is_done()) return dispatch();
    if (auto expect = message.find(bhttp::field::expect);
        expect != message.end() && util::iequals(sv(expect->value()), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code wec, std::size_t) {
                          if (wec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    deadline_ = Clock::now() + shared_.options.body_timeout;
    bhttp::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail_read(ec);
      self->dispatch();
    });
  }

  void fail_read(beast::error_code ec) {
    close_ = true;
    if (timed_out_) ec = beast::error::timeout;
    if (ec == beast::error::timeout && parser_->got_some())
      return reply(json_response(408, R"({"error":"timed out reading the request"})", {}, Close::yes));
    if (auto refusal = refusal_for(ec); refusal.status) return refuse(refusal);
    close();
  }

  // An error answer, after which the connection closes: what follows in the stream cannot be
  // trusted to start a request.
  void refuse(const Refusal& refusal) {
    close_ = true;
    reply(json_response(refusal.status, nlohmann::json{{"error", refusal.reason}}.dump(), {}, Close::yes));
  }

  void dispatch() {
    deadline_ = Clock::time_point::max(); // the handler (and any upstream call) has its own limits
    auto message = parser_->release();
    request_.headers.clear();
    request_.extra = nlohmann::json::object();
    request_.method.assign(sv(message.method_string()));
    request_.http_version = message.version() == 10 ? "1.0" : "1.1";
    std::string_view target = sv(message.target());
    const std::string* host_header = nullptr;
    for (const auto& field : message) request_.headers.emplace_back(sv(field.name_string()), sv(field.value()));
    host_header = record::find_header(request_.headers, "host");
    if (message.method() == bhttp::verb::connect)
      return reply(json_response(501, R"j({"error":"CONNECT is not supported yet (TLS interception is a later feature)"})j", {}, Close::yes));
    absolute_form_ = false;
    if (auto absolute = split_absolute_form(target)) {
      absolute_form_ = true;
      request_.scheme = absolute->scheme;
      request_.host = absolute->authority;
      request_.uri = std::move(absolute->origin_form);
    } else {
      request_.scheme = "http";
      request_.host = host_header ? *host_header : std::string();
      request_.uri.assign(target);
    }
    request_.body = std::move(message.body());
    try {
      shared_.handler(request_, Responder(shared_from_this()));
    } catch (const std::exception& e) {
      spdlog::error("handler failed on {} {}: {}", request_.method, request_.uri, e.what());
      close_ = true;
      reply(json_response(500, nlohmann::json{{"error", std::string("internal error: ") + e.what()}}.dump(), {}, Close::yes));
    }
  }

  void write_reply(std::string_view bytes) {
    replied_ = true;
    deadline_ = Clock::now() + shared_.options.body_timeout;
    asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    out_shared_.reset();
    if (ec || close_) return close();
    read_header();
  }

  void close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

  Socket socket_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool timed_out_ = false;
  Worker& worker_;
  const Shared& shared_;
  beast::flat_buffer buffer_{kReadBufferLimit}; // a maximum: it starts empty and grows as needed
  std::optional<RequestParser> parser_;
  record::Request request_;
  std::string out_owned_;
  std::shared_ptr<const std::string> out_shared_;
  bool head_ = false;
  bool close_ = false;
  bool absolute_form_ = false;
  bool replied_ = false;
};

void Worker::start_sweeping() {
  sweeper.emplace(ioc);
  sweeper->expires_after(kSweepInterval);
  sweeper->async_wait([this](beast::error_code ec) {
    if (ec) return;
    auto now = Clock::now();
    // expire_if_due() only cancels; connections leave the set later, from their own handlers.
    for (Connection* connection : connections) connection->expire_if_due(now);
    start_sweeping();
  });
}

class UpstreamCall : public std::enable_shared_from_this<UpstreamCall> {
public:
  UpstreamCall(Worker& worker, const Shared& shared, const Url& url, const record::Request& request,
               std::function<void(UpstreamResult&&)> done)
      : worker_(worker), options_(shared.options), shared_(shared), url_(url),
        tls_(url.scheme == "https"), key_(url.scheme + "://" + url.host + ":" + std::to_string(url.port)),
        resolver_(worker.ioc), done_(std::move(done)), wire_(serialize_request(request, url)) {
    head_ = request.method == "HEAD";
  }

  void start() {
    started_ = Clock::now();
    deadline_ = started_ + options_.upstream_timeout;
    if (auto idle = worker_.pool.take(key_)) {
      stream_.emplace(std::move(*idle));
      reused_ = true;
      return send();
    }
    connect();
  }

private:
  void connect() {
    reused_ = false;
    if (tls_) stream_.emplace(std::in_place_type<TlsStream>, worker_.ioc, shared_.upstream_tls());
    else stream_.emplace(std::in_place_type<TcpStream>, worker_.ioc);
    beast::error_code ec;
    auto address = asio::ip::make_address(url_.host, ec);
    if (!ec) {
      std::array<tcp::endpoint, 1> endpoints{tcp::endpoint(address, url_.port)};
      tcp_layer(*stream_).expires_at(deadline_);
      tcp_layer(*stream_).async_connect(endpoints, [self = shared_from_this()](beast::error_code cec, const tcp::endpoint&) {
        self->on_connect(cec);
      });
      return;
    }
    resolver_.async_resolve(url_.host, std::to_string(url_.port),
                            [self = shared_from_this()](beast::error_code rec, Resolver::results_type results) {
                              if (rec) return self->finish(UpstreamFailure::unreachable, "resolve " + self->url_.host + ": " + rec.message());
                              tcp_layer(*self->stream_).expires_at(self->deadline_);
                              tcp_layer(*self->stream_).async_connect(results, [self](beast::error_code cec, const tcp::endpoint&) {
                                self->on_connect(cec);
                              });
                            });
  }

  void on_connect(beast::error_code ec) {
    if (ec == beast::error::timeout) return finish(UpstreamFailure::timeout, "connect " + key_ + ": timed out");
    if (ec) return finish(UpstreamFailure::unreachable, "connect " + key_ + ": " + ec.message());
    tcp_layer(*stream_).socket().set_option(tcp::no_delay(true), ec);
    if (tls_) return handshake();
    send();
  }

  void handshake() {
    auto& tls = std::get<TlsStream>(*stream_);
    SSL* ssl = tls.native_handle();
    beast::error_code not_an_address;
    asio::ip::make_address(url_.host, not_an_address);
    // SNI carries names only (RFC 6066). OpenSSL checks the name (or the IP address) itself, so a
    // mismatch comes back as a verify result that says so.
    if (not_an_address) {
      SSL_set_tlsext_host_name(ssl, url_.host.c_str());
      if (!options_.upstream_insecure) {
        X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        SSL_set1_host(ssl, url_.host.c_str());
      }
    } else if (!options_.upstream_insecure) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url_.host.c_str());
    }
    tls.async_handshake(asio::ssl::stream_base::client, [self = shared_from_this()](beast::error_code ec) {
      if (ec == beast::error::timeout) return self->finish(UpstreamFailure::timeout, "TLS handshake " + self->key_ + ": timed out");
      if (ec)
        return self->finish(UpstreamFailure::tls, "TLS handshake " + self->key_ + ": " +
                                                      tls_failure_detail(std::get<TlsStream>(*self->stream_), ec));
      self->send();
    });
  }

  void send() {
    tcp_layer(*stream_).expires_at(deadline_);
    std::visit(
        [this](auto& stream) {
          // The request is written as the bytes serialize_request made: one send, none of
          // Beast's serializer machinery for a message that is already complete.
          asio::async_write(stream, asio::buffer(wire_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->retry_or_fail(ec, "write");
            self->read();
          });
        },
        *stream_);
  }

  void read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(options_.max_body);
    if (head_) parser_->skip(true);
    // Beast's first read is 512 bytes into an empty buffer; most answers fit in one 16 KiB read,
    // which saves a recvmsg per exchange.
    buffer_.reserve(16 * 1024);
    // The head first, checked before the body is read: Beast 1.74 loses its own body-limit
    // error when body bytes arrive with the head (and its string body reserves the announced
    // length), so a 300 MB Content-Length would be read whole.
    std::visit(
        [this](auto& stream) {
          bhttp::async_read_header(stream, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_header(ec);
          });
        },
        *stream_);
  }

  void on_header(beast::error_code ec) {
    if (ec) return retry_or_fail(ec, "read");
    auto& message = parser_->get();
    int status = message.result_int();
    if (status >= 100 && status < 200 && status != 101) return read(); // interim response: a head only
    // Framing matters only when a body follows (not after HEAD, 204, 304 or a zero length).
    const bool body_follows = !parser_->is_done();
    if (auto framing = check_framing(message, message.version());
        framing == Framing::too_many_fields || (body_follows && framing != Framing::ok))
      return finish(UpstreamFailure::bad_response, "response from " + key_ + ": " + describe(framing));
    if (auto length = parser_->content_length(); body_follows && length && *length > options_.max_body)
      return finish(UpstreamFailure::too_large, too_large_detail());
    if (!body_follows) return on_read({});
    // Most bodies came in with their head: parse them now rather than post an async_read that
    // would find them already buffered (an extra event-loop turn per exchange).
    if (buffer_.size() > 0) {
      parser_->eager(true);
      buffer_.consume(parser_->put(buffer_.data(), ec));
      if (ec && ec != bhttp::error::need_more) return retry_or_fail(ec, "read");
      if (parser_->is_done()) return on_read({});
    }
    std::visit(
        [this](auto& stream) {
          bhttp::async_read(stream, buffer_, *parser_, [self = shared_from_this()](beast::error_code rec, std::size_t) {
            self->on_read(rec);
          });
        },
        *stream_);
  }

  std::string too_large_detail() const {
    std::string announced;
    if (parser_ && parser_->is_header_done())
      if (auto length = parser_->content_length()) announced = "of " + std::to_string(*length) + " bytes ";
    return "upstream response body " + announced + "exceeds the limit of " + std::to_string(options_.max_body) +
           " bytes (--max-body)";
  }

  void retry_or_fail(beast::error_code ec, const char* what) {
    bool nothing_received = !parser_ || !parser_->got_some();
    if (reused_ && nothing_received && ec != beast::error::timeout) {
      buffer_.clear();
      parser_.reset();
      return connect();
    }
    if (ec == beast::error::timeout)
      return finish(UpstreamFailure::timeout, std::string(what) + " " + key_ + ": no complete response within the upstream timeout");
    if (ec == bhttp::error::body_limit) return finish(UpstreamFailure::too_large, too_large_detail());
    finish(nothing_received ? UpstreamFailure::unreachable : UpstreamFailure::bad_response,
           std::string(what) + " " + key_ + ": " + ec.message());
  }

  void on_read(beast::error_code ec) {
    // A TLS upstream that ends a read-until-close body without close_notify: the body is as
    // complete as it would be over TCP, so end it the same way.
    if (ec == asio::ssl::error::stream_truncated && parser_->is_header_done() && parser_->need_eof()) {
      ec = {};
      parser_->put_eof(ec);
    }
    if (ec) return retry_or_fail(ec, "read");
    auto& message = parser_->get();
    result_.response.status = message.result_int();
    result_.response.reason.assign(sv(message.reason()));
    for (const auto& field : message) result_.response.headers.emplace_back(sv(field.name_string()), sv(field.value()));
    strip_hop_by_hop(result_.response.headers);
    result_.response.body = std::move(message.body());
    bool reusable = message.keep_alive() && !parser_->need_eof() && buffer_.size() == 0;
    if (reusable) worker_.pool.give(key_, std::move(*stream_), options_.max_idle_upstream_per_host);
    finish(UpstreamFailure::none, {});
  }

  void finish(UpstreamFailure failure, std::string detail) {
    result_.failure = failure;
    result_.detail = std::move(detail);
    result_.reused_connection = reused_;
    result_.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    if (failure != UpstreamFailure::none && stream_) {
      beast::error_code ignored;
      tcp_layer(*stream_).socket().close(ignored);
    }
    auto done = std::move(done_);
    done(std::move(result_));
  }

  Worker& worker_;
  const ServerOptions& options_;
  const Shared& shared_;
  Url url_;
  bool tls_;
  std::string key_;
  Resolver resolver_;
  std::function<void(UpstreamResult&&)> done_;
  std::string wire_;
  std::optional<UpstreamStream> stream_;
  std::optional<ResponseParser> parser_;
  beast::flat_buffer buffer_;
  UpstreamResult result_;
  Clock::time_point started_;
  Clock::time_point deadline_;
  bool reused_ = false;
  bool head_ = false;
};

} // namespace detail

std::string upstream_failure_response(const UpstreamResult& result, const std::string& upstream) {
  int status = result.failure == UpstreamFailure::timeout ? 504 : 502;
  const char* what = "upstream unreachable";
  switch (result.failure) {
  case UpstreamFailure::timeout: what = "upstream timed out"; break;
  case UpstreamFailure::bad_response: what = "upstream sent a malformed response"; break;
  case UpstreamFailure::too_large: what = "upstream response too large"; break;
  case UpstreamFailure::tls: what = "upstream TLS handshake failed"; break;
  default: break;
  }
  nlohmann::json body{{"error", what}, {"upstream", upstream}, {"detail", result.detail}};
  return json_response(status, body.dump(), {{"X-Ghost-Error", "upstream"}});
}

Responder::Responder(std::shared_ptr<detail::Connection> connection) noexcept : connection_(std::move(connection)) {}

void Responder::send(std::string bytes) { connection_->reply(std::move(bytes)); }
void Responder::send(std::shared_ptr<const std::string> prepared) { connection_->reply(std::move(prepared)); }
void Responder::send(const record::Response& response, const record::Headers& extra) {
  connection_->reply(serialize_response(response, extra, connection_->head() ? BodyMode::head : BodyMode::send,
                                        connection_->closing() ? Close::yes : Close::no));
}
bool Responder::head_request() const noexcept { return connection_->head(); }
bool Responder::closing() const noexcept { return connection_->closing(); }
bool Responder::absolute_form() const noexcept { return connection_->absolute_form(); }
void Responder::defer(std::function<void()> fn) { asio::post(connection_->worker().ioc, std::move(fn)); }

void Responder::forward(const Url& upstream, const record::Request& request, std::function<void(UpstreamResult&&)> done) {
  auto call = std::make_shared<detail::UpstreamCall>(connection_->worker(), connection_->shared(), upstream, request,
                                                     std::move(done));
  call->start();
}

struct Server::Impl {
  detail::Shared shared;
  std::vector<std::unique_ptr<detail::Worker>> workers;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_backoff;
  std::size_t next_worker = 0;
  bool started = false;
  bool stopped = false;
  bool accept_failing = false;

  void accept() {
    auto& target = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    acceptor->async_accept(target.ioc, [this, &target](beast::error_code ec, Socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (ec) {
        // Out of descriptors (EMFILE/ENFILE) or memory: the pending connection stays queued, so
        // accepting again at once would spin. Wait, and say so once per episode.
        if (!accept_failing) spdlog::warn("accept failed: {} (retrying every 50 ms)", ec.message());
        accept_failing = true;
        accept_backoff.emplace(workers.front()->ioc);
        accept_backoff->expires_after(std::chrono::milliseconds(50));
        accept_backoff->async_wait([this](beast::error_code wec) {
          if (!wec && acceptor->is_open()) accept();
        });
        return;
      }
      if (accept_failing) spdlog::info("accepting connections again");
      accept_failing = false;
      socket.set_option(tcp::no_delay(true), ec);
      asio::post(target.ioc, [this, &target, s = std::move(socket)]() mutable {
        std::make_shared<detail::Connection>(std::move(s), target, shared)->start();
      });
      accept();
    });
  }
};

Server::Server(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->shared.options = std::move(options);
  impl_->shared.handler = std::move(handler);
  auto& opts = impl_->shared.options;
  if (!opts.upstream_ca_file.empty()) impl_->shared.upstream_tls(); // a bad --upstream-ca fails now, not mid-run
  if (opts.upstream_insecure) spdlog::warn("https upstreams are not verified (--upstream-insecure)");
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
  impl_->acceptor.reset();
  impl_->workers.clear();
}

} // namespace gostly::http
