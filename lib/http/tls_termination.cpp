// Terminating a client's TLS (CONNECT + MITM, or TLS straight to --tls-listen), and the one place
// that looks at a new connection's first byte to decide which protocol serves it.
#include "http/internal.hpp"

#include "tls/authority.hpp"
#include "util/error.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstring>

namespace gostly::http::detail {

namespace {

constexpr unsigned char kTlsHandshakeRecord = 0x16; // the first byte of every ClientHello

std::string host_of(const std::string& authority) {
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    return close == std::string::npos ? authority : authority.substr(1, close - 1);
  }
  auto colon = authority.rfind(':');
  return colon == std::string::npos ? authority : authority.substr(0, colon);
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void* arg) {
  const auto* termination = static_cast<const TlsTermination*>(arg);
  static const unsigned char h2_then_http11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  static const unsigned char http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  const unsigned char* ours = termination->offers_h2() ? h2_then_http11 : http11;
  unsigned ours_len = termination->offers_h2() ? sizeof h2_then_http11 : sizeof http11;
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, ours, ours_len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK; // no overlap: carry on without ALPN, as HTTP/1.1
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// An alert the client sent about our certificate: it does not trust gostly's CA, or pins.
bool client_refused_certificate(const std::string& detail) {
  for (const char* alert : {"unknown ca", "bad certificate", "certificate unknown", "unsupported certificate",
                            "access denied", "certificate revoked", "certificate expired"})
    if (detail.find(alert) != std::string::npos) return true;
  return false;
}

// The handshake in progress, with its own deadline (the idle timeout): a client that connects
// and says nothing must not hold a descriptor forever.
class Handshake final : public Expiring, public std::enable_shared_from_this<Handshake> {
public:
  Handshake(std::unique_ptr<ClientTlsStream> stream, Worker& worker, const Shared& shared, Origin origin)
      : stream_(std::move(stream)), worker_(worker), shared_(shared), origin_(std::move(origin)) {}
  ~Handshake() override { worker_.connections.erase(static_cast<Expiring*>(this)); }

  void start() {
    worker_.connections.insert(static_cast<Expiring*>(this));
    deadline_ = Clock::now() + shared_.options.idle_timeout;
    stream_->async_handshake(asio::ssl::stream_base::server,
                             [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
  }

  void expire_if_due(Clock::time_point now) override {
    if (now < deadline_ || !stream_) return;
    deadline_ = Clock::time_point::max();
    beast::error_code ignored;
    stream_->next_layer().cancel(ignored);
  }

private:
  void on_handshake(beast::error_code ec) {
    deadline_ = Clock::time_point::max();
    SSL* ssl = stream_->native_handle();
    const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    std::string name = sni && *sni ? std::string(sni) : host_of(origin_.authority);
    const auto& termination = *shared_.tls_termination;
    termination.count_handshake(!ec);
    if (ec) {
      std::string detail = ec.message();
      if (client_refused_certificate(detail)) shared_.tls_termination->log_refusal(name.empty() ? "(no SNI)" : name, detail);
      else spdlog::debug("TLS handshake with a client for {} failed: {}", name.empty() ? "(no SNI)" : name, detail);
      beast::error_code ignored;
      stream_->next_layer().close(ignored);
      return;
    }
    const unsigned char* alpn = nullptr;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    Origin origin = origin_;
    origin.scheme = "https";
    if (origin.authority.empty() && !name.empty()) origin.authority = name;
    if (alpn_len == 2 && std::memcmp(alpn, "h2", 2) == 0)
      return serve_h2(std::move(stream_), worker_, shared_, std::move(origin));
    serve_http1(std::move(stream_), worker_, shared_, std::move(origin));
  }

  std::unique_ptr<ClientTlsStream> stream_;
  Worker& worker_;
  const Shared& shared_;
  Origin origin_;
  Clock::time_point deadline_ = Clock::time_point::max();
};

// Waits for a connection's first byte (bounded by the idle timeout) and peeks at it.
class Sniffer final : public Expiring, public std::enable_shared_from_this<Sniffer> {
public:
  Sniffer(Socket socket, Worker& worker, const Shared& shared)
      : socket_(std::move(socket)), worker_(worker), shared_(shared) {}
  ~Sniffer() override { worker_.connections.erase(static_cast<Expiring*>(this)); }

  void start() {
    worker_.connections.insert(static_cast<Expiring*>(this));
    deadline_ = Clock::now() + shared_.options.idle_timeout;
    socket_.async_wait(Socket::wait_read, [self = shared_from_this()](beast::error_code ec) { self->on_readable(ec); });
  }

  void expire_if_due(Clock::time_point now) override {
    if (now < deadline_) return;
    deadline_ = Clock::time_point::max();
    beast::error_code ignored;
    socket_.cancel(ignored);
  }

private:
  void on_readable(beast::error_code ec) {
    deadline_ = Clock::time_point::max();
    if (ec) return;
    unsigned char first = 0;
    ssize_t n = ::recv(socket_.native_handle(), &first, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) return; // closed, or reset: nothing to serve
    if (first == kTlsHandshakeRecord) return terminate_tls(std::move(socket_), worker_, shared_, Origin{});
    serve_http1(std::move(socket_), worker_, shared_);
  }

  Socket socket_;
  Worker& worker_;
  const Shared& shared_;
  Clock::time_point deadline_ = Clock::time_point::max();
};

} // namespace

// The certificate for a client that sends no SNI: clients send none for an IP address, so a
// listener bound to one presents a leaf for it (https://127.0.0.1:8443 verifies); else localhost.
static std::string default_leaf_host(const ServerOptions& options) {
  auto hp = parse_host_port(options.listen);
  if (!options.takes_tls || !hp || hp->host == "0.0.0.0" || hp->host == "::") return "localhost";
  beast::error_code not_an_address;
  asio::ip::make_address(hp->host, not_an_address);
  return not_an_address ? std::string("localhost") : hp->host;
}

TlsTermination::TlsTermination(const ServerOptions& options)
    : options_(options), context_(options.authority->make_server_context(default_leaf_host(options), [this](ssl_ctx_st* ctx) {
        SSL_CTX_set_alpn_select_cb(ctx, select_alpn, this); // on the per-host contexts too: OpenSSL asks those
      })) {}

TlsTermination::~TlsTermination() = default;

void TlsTermination::count_handshake(bool ok) const {
  if (options_.on_handshake) options_.on_handshake(ok);
}

void TlsTermination::log_refusal(const std::string& host, const std::string& detail) {
  {
    std::lock_guard lock(refused_mutex_);
    if (!refused_hosts_.insert(host).second) return;
  }
  spdlog::warn("a client refused gostly's certificate for {} ({}): it does not trust {} or pins the real "
               "certificate; give the client that CA (gostly-record -- CMD does), or pass the host through "
               "untouched with --no-intercept {}",
               host, detail, options_.authority->certificate_path().string(), host);
}

void terminate_tls(Socket socket, Worker& worker, const Shared& shared, Origin origin) {
  auto& termination = *shared.tls_termination;
  auto stream = std::make_unique<ClientTlsStream>(std::move(socket), termination.context());
  // A client sends no SNI for an IP address: present a leaf for the CONNECT host then.
  if (!origin.authority.empty()) {
    try {
      auto leaf = shared.options.authority->leaf_for(host_of(origin.authority));
      SSL_use_certificate(stream->native_handle(), leaf->certificate.get());
      SSL_use_PrivateKey(stream->native_handle(), leaf->key.get());
    } catch (const std::exception& e) {
      spdlog::warn("cannot mint a certificate for {}: {}", origin.authority, e.what());
      return;
    }
  }
  std::make_shared<Handshake>(std::move(stream), worker, shared, std::move(origin))->start();
}

void hand_over(Socket socket, Worker& worker, const Shared& shared) {
  if (!shared.options.takes_tls || !shared.tls_termination) return serve_http1(std::move(socket), worker, shared);
  std::make_shared<Sniffer>(std::move(socket), worker, shared)->start();
}

} // namespace gostly::http::detail
