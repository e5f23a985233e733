// The upstream client: one exchange with an http:// or https:// upstream, on the worker of the
// connection that asked for it, with a pool of idle connections per worker.
//
// An UpstreamCall takes an idle pooled connection for host:port when there is one, else resolves
// and connects. One deadline covers connect, write and read, so a forward never outlives the
// upstream timeout. If a reused connection fails before any response byte arrives (the upstream
// closed it while idle) the call retries once on a fresh connection. A response whose body came
// with its head (most answers: one read) is returned whole; its connection goes back to the pool
// only when the upstream keeps it alive and nothing extra is buffered. Failures come back as
// values (no exceptions cross an Asio handler): unreachable/bad response -> 502, timeout -> 504.
//
// Streaming. When the body is not complete with the head and the client's protocol streams
// (Exchange::streams(), HTTP/1.1), the head goes to the client at once and each piece as it is
// read; the next read starts when the client has taken the piece, so a slow client slows the
// upstream instead of filling memory. The upstream timeout then bounds each wait for a piece,
// not the whole stream (an SSE stream may run for hours). The body is kept for the record up to
// --max-body; past it the client still gets every byte and the result says "max-body". A client
// that hangs up, or an upstream that fails mid-body, ends the stream (the upstream connection is
// closed) and the result holds what the client was sent, saying which side cut it. Without a
// streaming client the body is read whole within --max-body, as before.
//
// https:// upstreams. The same exchange runs over beast::ssl_stream after a TLS handshake that
// sends SNI and checks the certificate chain and the host name (RFC 6125) against the system
// trust store plus --upstream-ca; a failed handshake is a 502 whose detail says why (expired,
// unknown issuer, wrong host), never a silent plaintext fallback. Pooled connections are keyed
// by scheme, host and port, so a TLS session is reused across requests like a TCP one.
#include "http/internal.hpp"

#include "util/error.hpp"

#include <limits>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

namespace gostly::http {
namespace detail {

std::optional<UpstreamStream> UpstreamPool::take(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end() || it->second.empty()) return std::nullopt;
  UpstreamStream stream = std::move(it->second.back());
  it->second.pop_back();
  return stream;
}

void UpstreamPool::give(const std::string& key, UpstreamStream stream, std::size_t max_idle) {
  auto& list = idle_[key];
  if (list.size() >= max_idle) return; // dropping it closes it
  tcp_layer(stream).expires_never();
  list.push_back(std::move(stream));
}

namespace {
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

asio::ssl::context& Shared::upstream_tls() const {
  std::call_once(tls_once, [this] { tls = make_upstream_tls_context(options); });
  return *tls;
}

// Beast's string_body reserves the announced Content-Length up front; a streamed download may
// announce gigabytes of which only --max-body are kept, so this body reserves at most that.
struct UpstreamBody {
  struct value_type {
    std::string bytes;
    std::uint64_t reserve_limit = 0;
  };
  class reader {
  public:
    template <bool isRequest, class Fields>
    reader(bhttp::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>& length, beast::error_code& ec) {
      if (length) body_.bytes.reserve(static_cast<std::size_t>(std::min(*length, body_.reserve_limit)));
      ec = {};
    }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      const auto size = body_.bytes.size();
      const auto extra = beast::buffer_bytes(buffers);
      body_.bytes.resize(size + extra);
      ec = {};
      return asio::buffer_copy(asio::buffer(body_.bytes.data() + size, extra), buffers);
    }
    void finish(beast::error_code& ec) { ec = {}; }

  private:
    value_type& body_;
  };
};
using UpstreamParser = bhttp::response_parser<UpstreamBody>;

class UpstreamCall : public std::enable_shared_from_this<UpstreamCall> {
public:
  UpstreamCall(Worker& worker, const Shared& shared, const Url& url, const record::Request& request,
               std::function<void(UpstreamResult&&)> done, std::shared_ptr<Exchange> client, Upgraded upgraded = {})
      : worker_(worker), options_(shared.options), shared_(shared), url_(url),
        tls_(url.scheme == "https"), key_(url.scheme + "://" + url.host + ":" + std::to_string(url.port)),
        resolver_(worker.ioc), done_(std::move(done)), upgraded_(std::move(upgraded)), wire_(serialize_request(request, url)) {
    head_ = request.method == "HEAD";
    if (client && client->streams()) client_ = std::move(client);
    if (upgraded_) {
      // serialize_request() drops hop-by-hop fields; an upgrade is the one request that needs
      // them end to end (RFC 9110 7.8), so they go back at the end of its head.
      const std::string* upgrade = record::find_header(request.headers, "upgrade");
      wire_.insert(wire_.find("\r\n\r\n") + 2, "Connection: Upgrade\r\nUpgrade: " + (upgrade ? *upgrade : "websocket") + "\r\n");
    }
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
    count(&UpstreamCounters::connections);
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
    count(&UpstreamCounters::resolutions);
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

  void count(std::atomic<std::uint64_t> UpstreamCounters::*which) const noexcept {
    if (options_.upstream_counters) ((*options_.upstream_counters).*which).fetch_add(1, std::memory_order_relaxed);
  }

  void handshake() {
    count(&UpstreamCounters::tls_handshakes);
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
    // A streamed body has no limit for the client (only the record keeps --max-body of it). Not
    // boost::none: Beast 1.74 compares a Content-Length with the optional, and none is smaller.
    parser_->body_limit(client_ ? std::numeric_limits<std::uint64_t>::max() : options_.max_body);
    parser_->get().body().reserve_limit = options_.max_body;
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
    if (status == 101 && upgraded_) return hand_over_upgrade();
    // Framing matters only when a body follows (not after HEAD, 204, 304 or a zero length).
    const bool body_follows = !parser_->is_done();
    if (auto framing = check_framing(message, message.version());
        framing == Framing::too_many_fields || (body_follows && framing != Framing::ok))
      return finish(UpstreamFailure::bad_response, "response from " + key_ + ": " + describe(framing));
    if (auto length = parser_->content_length(); !client_ && body_follows && length && *length > options_.max_body)
      return finish(UpstreamFailure::too_large, too_large_detail());
    if (!body_follows) return on_read({});
    // Most bodies came in with their head: parse them now rather than post an async_read that
    // would find them already buffered (an extra event-loop turn per exchange).
    if (buffer_.size() > 0) {
      parser_->eager(true);
      buffer_.consume(parser_->put(buffer_.data(), ec));
      if (ec && ec != bhttp::error::need_more) return retry_or_fail(ec, "read");
      if (parser_->is_done() && (!client_ || body().size() <= options_.max_body)) return on_read({});
    }
    if (client_) return start_stream();
    std::visit(
        [this](auto& stream) {
          bhttp::async_read(stream, buffer_, *parser_, [self = shared_from_this()](beast::error_code rec, std::size_t) {
            self->on_read(rec);
          });
        },
        *stream_);
  }

  // The upstream switched protocols: its connection leaves the call (never pooled), with the
  // bytes read past the head, and the answer keeps every header as received.
  void hand_over_upgrade() {
    auto& message = parser_->get();
    result_.response.status = 101;
    result_.response.reason.assign(sv(message.reason()));
    for (const auto& field : message) result_.response.headers.emplace_back(sv(field.name_string()), sv(field.value()));
    result_.reused_connection = reused_;
    result_.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    std::string early(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    tcp_layer(*stream_).expires_never(); // the relay keeps its own idle deadline
    auto upgraded = std::move(upgraded_);
    upgraded(std::move(result_), std::move(*stream_), std::move(early));
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
    take_head();
    result_.response.body = std::move(body());
    give_back_if_reusable();
    finish(UpstreamFailure::none, {});
  }

  std::string& body() { return parser_->get().body().bytes; }

  void take_head() {
    auto& message = parser_->get();
    result_.response.status = message.result_int();
    result_.response.reason.assign(sv(message.reason()));
    for (const auto& field : message) result_.response.headers.emplace_back(sv(field.name_string()), sv(field.value()));
    strip_hop_by_hop(result_.response.headers);
  }

  void give_back_if_reusable() {
    bool reusable = parser_->get().keep_alive() && !parser_->need_eof() && buffer_.size() == 0;
    if (reusable) worker_.pool.give(key_, std::move(*stream_), options_.max_idle_upstream_per_host);
  }

  // ---- streaming (see the top of this file) ----

  void start_stream() {
    // An eager parser that has taken a chunk and meets a partial chunk header reports need_more,
    // and async_read_some then waits for more instead of returning the chunk it has.
    parser_->eager(false);
    take_head();
    sent_ = 0;
    in_flight_ = body().size();
    client_->stream_head(result_.response, parser_->content_length().has_value(), body(),
                         [self = shared_from_this()](bool ok) { self->on_piece_written(ok); });
  }

  void on_piece_written(bool ok) {
    if (!ok) return cut_stream("client", "the client closed the connection");
    result_.body_bytes += std::exchange(in_flight_, 0);
    // The record keeps the first --max-body bytes; what is past them has been sent and goes.
    keep_at_most_max_body();
    sent_ = body().size();
    if (parser_->is_done()) return complete_stream();
    tcp_layer(*stream_).expires_after(options_.upstream_timeout);
    std::visit(
        [this](auto& stream) {
          bhttp::async_read_some(stream, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_piece_read(ec);
          });
        },
        *stream_);
  }

  void on_piece_read(beast::error_code ec) {
    if (ec == asio::ssl::error::stream_truncated && parser_->need_eof()) {
      ec = {};
      parser_->put_eof(ec);
    }
    if (ec == beast::error::timeout)
      return cut_stream("upstream", "read " + key_ + ": no body bytes within the upstream timeout");
    if (ec) return cut_stream("upstream", "read " + key_ + ": " + ec.message());
    if (parser_->is_done()) return complete_stream();
    if (body().size() > sent_) {
      std::string_view piece(body().data() + sent_, body().size() - sent_);
      in_flight_ = piece.size();
      return client_->stream_piece(piece, [self = shared_from_this()](bool ok) { self->on_piece_written(ok); });
    }
    on_piece_written(true); // a chunk header, no body bytes: read on
  }

  void keep_at_most_max_body() {
    if (body().size() <= options_.max_body) return;
    body().resize(static_cast<std::size_t>(options_.max_body));
    result_.truncated_by = "max-body";
  }

  // The whole body is in: the result goes to the handler (which records it) before the client
  // gets the last piece and the end, so that, as with a reply sent whole, a LEARN record is on
  // disk once the client has its whole answer.
  void complete_stream() {
    tail_.assign(body(), sent_);
    result_.body_bytes += tail_.size();
    keep_at_most_max_body();
    give_back_if_reusable();
    auto client = std::move(client_);
    result_.streamed = true;
    result_.response.body = std::move(body());
    finish(UpstreamFailure::none, {});
    if (tail_.empty()) return client->stream_end(true);
    client->stream_piece(tail_, [self = shared_from_this(), client](bool ok) { client->stream_end(ok); });
  }

  // The stream ends early: the client sees it cut, the upstream connection is closed, and the
  // result holds what the client was sent.
  void cut_stream(const char* cut_by, std::string detail) {
    client_->stream_end(false);
    client_.reset();
    beast::error_code ignored;
    tcp_layer(*stream_).socket().close(ignored);
    result_.streamed = true;
    body().resize(std::min(body().size(), sent_)); // not a piece the client did not get
    keep_at_most_max_body();
    result_.truncated_by = cut_by;
    result_.response.body = std::move(body());
    finish(UpstreamFailure::none, std::move(detail));
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
  Upgraded upgraded_; // set for a WebSocket upgrade: a 101 goes here instead of done_
  std::string wire_;
  std::optional<UpstreamStream> stream_;
  std::optional<UpstreamParser> parser_;
  std::shared_ptr<Exchange> client_; // set when the client's protocol streams
  std::size_t sent_ = 0;             // body() bytes already given to the client
  std::size_t in_flight_ = 0;        // bytes of the piece being written to it
  std::string tail_;                 // the last piece, sent after the result is handed over
  beast::flat_buffer buffer_;
  UpstreamResult result_;
  Clock::time_point started_;
  Clock::time_point deadline_;
  bool reused_ = false;
  bool head_ = false;
};


void start_upstream_call(Worker& worker, const Shared& shared, const Url& upstream, const record::Request& request,
                         std::function<void(UpstreamResult&&)> done, std::shared_ptr<Exchange> client) {
  std::make_shared<UpstreamCall>(worker, shared, upstream, request, std::move(done), std::move(client))->start();
}

void start_upstream_upgrade(Worker& worker, const Shared& shared, const Url& upstream, const record::Request& request,
                            std::function<void(UpstreamResult&&)> done, Upgraded upgraded) {
  std::make_shared<UpstreamCall>(worker, shared, upstream, request, std::move(done), nullptr, std::move(upgraded))->start();
}

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

} // namespace gostly::http
