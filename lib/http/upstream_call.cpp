// The upstream client: one exchange with an http:// or https:// upstream, on the worker of the
// connection that asked for it, with a pool of idle connections per worker.
//
// An UpstreamCall takes an idle pooled connection for host:port when there is one, else resolves
// and connects. One deadline covers connect, write and read, so a forward never outlives the
// upstream timeout. If a reused connection fails before any response byte arrives (the upstream
// closed it while idle) the call retries once on a fresh connection. A response is read whole
// (bounded by the body limit) and its connection goes back to the pool only when the upstream
// keeps it alive and nothing extra is buffered. Failures come back as values (no exceptions cross
// an Asio handler): unreachable/bad response -> 502, timeout -> 504.
//
// https:// upstreams. The same exchange runs over beast::ssl_stream after a TLS handshake that
// sends SNI and checks the certificate chain and the host name (RFC 6125) against the system
// trust store plus --upstream-ca; a failed handshake is a 502 whose detail says why (expired,
// unknown issuer, wrong host), never a silent plaintext fallback. Pooled connections are keyed
// by scheme, host and port, so a TLS session is reused across requests like a TCP one.
#include "http/internal.hpp"

#include "util/error.hpp"

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

class UpstreamCall : public std::enable_shared_from_this<UpstreamCall> {
public:
  UpstreamCall(Worker& worker, const Shared& shared, const Url& url, const record::Request& request,
               std::function<void(UpstreamResult&&)> done, Upgraded upgraded = {})
      : worker_(worker), options_(shared.options), shared_(shared), url_(url),
        tls_(url.scheme == "https"), key_(url.scheme + "://" + url.host + ":" + std::to_string(url.port)),
        resolver_(worker.ioc), done_(std::move(done)), upgraded_(std::move(upgraded)), wire_(serialize_request(request, url)) {
    head_ = request.method == "HEAD";
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
    if (status == 101 && upgraded_) return hand_over_upgrade();
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
  Upgraded upgraded_; // set for a WebSocket upgrade: a 101 goes here instead of done_
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


void start_upstream_call(Worker& worker, const Shared& shared, const Url& upstream, const record::Request& request,
                         std::function<void(UpstreamResult&&)> done) {
  std::make_shared<UpstreamCall>(worker, shared, upstream, request, std::move(done))->start();
}

void start_upstream_upgrade(Worker& worker, const Shared& shared, const Url& upstream, const record::Request& request,
                            std::function<void(UpstreamResult&&)> done, Upgraded upgraded) {
  std::make_shared<UpstreamCall>(worker, shared, upstream, request, std::move(done), std::move(upgraded))->start();
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
