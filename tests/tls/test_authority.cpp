#include "tls/authority.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

using namespace gostly;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path = fs::temp_directory_path() / util::random_id("gostly-tls");
  ~TempDir() { fs::remove_all(path); }
};

struct HandshakeResult {
  bool verified = false;
  SSL_CTX* server_context = nullptr; // the context the server's SSL ended up with (SNI may switch it)
  std::string alpn;                  // the protocol the server selected, "" for none
  bool reused = false;               // the client resumed the session it was given
  std::unique_ptr<SSL_SESSION, decltype(&SSL_SESSION_free)> session{nullptr, SSL_SESSION_free}; // the client's, after
};

// Runs a TLS handshake entirely in memory (two BIO pairs), as a client that trusts only
// `ca_pem`, checks the hostname and offers `alpn` (wire format, "" for no ALPN).
HandshakeResult handshake_with(SSL_CTX* server_ctx, const std::string& ca_pem, const std::string& host,
                               const std::string& alpn = "", SSL_SESSION* resume = nullptr) {
  SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
  BIO* pem = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(pem, nullptr, nullptr, nullptr);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx), ca);
  X509_free(ca);
  BIO_free(pem);
  SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, nullptr);

  SSL* client = SSL_new(client_ctx);
  SSL* server = SSL_new(server_ctx);
  SSL_set_tlsext_host_name(client, host.c_str());
  SSL_set1_host(client, host.c_str());
  if (resume) SSL_set_session(client, resume);
  if (!alpn.empty())
    SSL_set_alpn_protos(client, reinterpret_cast<const unsigned char*>(alpn.data()), static_cast<unsigned>(alpn.size()));
  BIO *client_bio, *server_bio;
  BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
  SSL_set_bio(client, client_bio, client_bio);
  SSL_set_bio(server, server_bio, server_bio);
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
  bool done = false;
  for (int round = 0; round < 20 && !done; ++round) {
    int c = SSL_do_handshake(client);
    int s = SSL_do_handshake(server);
    done = c == 1 && s == 1;
    if (c <= 0 && SSL_get_error(client, c) != SSL_ERROR_WANT_READ) break;
  }
  HandshakeResult result;
  if (done) { // TLS 1.3 session tickets come after the handshake: let the client read them
    char byte;
    SSL_read(client, &byte, 1);
  }
  result.reused = done && SSL_session_reused(client) == 1;
  result.session.reset(SSL_get1_session(client));
  result.verified = done && SSL_get_verify_result(client) == X509_V_OK;
  result.server_context = SSL_get_SSL_CTX(server);
  const unsigned char* selected = nullptr;
  unsigned selected_len = 0;
  SSL_get0_alpn_selected(server, &selected, &selected_len);
  result.alpn.assign(reinterpret_cast<const char*>(selected), selected ? selected_len : 0);
  if (done) { // a clean close: a session freed without one is marked not resumable
    SSL_shutdown(client);
    SSL_shutdown(server);
  }
  SSL_free(client);
  SSL_free(server);
  SSL_CTX_free(client_ctx);
  return result;
}

bool handshake(SSL_CTX* server_ctx, const std::string& ca_pem, const std::string& host) {
  return handshake_with(server_ctx, ca_pem, host).verified;
}
} // namespace

TEST_CASE("tls::CertificateAuthority: created once with a 0600 key, then reloaded", "[tls]") {
  TempDir dir;
  auto ca = tls::CertificateAuthority::load_or_create(dir.path / "ca");
  struct stat st {};
  REQUIRE(::stat((dir.path / "ca" / "ca.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = tls::CertificateAuthority::load_or_create(dir.path / "ca");
  CHECK(again->certificate_pem() == ca->certificate_pem());
}

TEST_CASE("tls::CertificateAuthority: a client trusting the CA completes a handshake for any SNI host", "[tls]") {
  TempDir dir;
  auto ca = tls::CertificateAuthority::load_or_create(dir.path / "ca");
  SSL_CTX* ctx = ca->make_server_context("localhost");
  CHECK(handshake(ctx, ca->certificate_pem(), "api.example.com"));
  CHECK(handshake(ctx, ca->certificate_pem(), "localhost"));
  CHECK(ca->leaf_for("api.example.com") == ca->leaf_for("api.example.com")); // cached

  TempDir other;
  auto stranger = tls::CertificateAuthority::load_or_create(other.path / "ca");
  CHECK_FALSE(handshake(ctx, stranger->certificate_pem(), "api.example.com"));
  SSL_CTX_free(ctx);
}

TEST_CASE("tls::CertificateAuthority: IP literals get an IP subjectAltName", "[tls]") {
  TempDir dir;
  auto ca = tls::CertificateAuthority::load_or_create(dir.path / "ca");
  auto leaf = ca->leaf_for("127.0.0.1");
  CHECK(X509_check_ip_asc(leaf->certificate.get(), "127.0.0.1", 0) == 1);
  CHECK(X509_check_host(ca->leaf_for("api.example.com")->certificate.get(), "api.example.com", 0, 0, nullptr) == 1);
}

TEST_CASE("tls::CertificateAuthority: each SNI name gets a context of its own, made once, configured like the first",
          "[tls]") {
  TempDir dir;
  auto ca = tls::CertificateAuthority::load_or_create(dir.path / "ca");
  // What TlsTermination does: its own ALPN callback (here: always h2), which must hold for every host.
  SSL_CTX* ctx = ca->make_server_context("localhost", [](ssl_ctx_st* c) {
    SSL_CTX_set_alpn_select_cb(
        c,
        [](SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen, void*) {
          static const unsigned char h2[] = {2, 'h', '2'};
          unsigned char* selected = nullptr;
          if (SSL_select_next_proto(&selected, outlen, h2, sizeof h2, in, inlen) != OPENSSL_NPN_NEGOTIATED)
            return SSL_TLSEXT_ERR_NOACK;
          *out = selected;
          return SSL_TLSEXT_ERR_OK;
        },
        nullptr);
  });
  const std::string offer("\x02h2\x08http/1.1", 12);
  auto first = handshake_with(ctx, ca->certificate_pem(), "api.example.com", offer);
  auto again = handshake_with(ctx, ca->certificate_pem(), "api.example.com", offer);
  auto other = handshake_with(ctx, ca->certificate_pem(), "other.example.com", offer);
  CHECK(first.verified);
  CHECK(again.verified);
  CHECK(other.verified);
  CHECK(first.server_context != ctx);                // switched to the host's own context
  CHECK(again.server_context == first.server_context); // made once, reused
  CHECK(other.server_context != first.server_context);
  CHECK(first.alpn == "h2"); // the caller's ALPN callback runs on the switched-to context
  CHECK(other.alpn == "h2");
  CHECK(handshake_with(ctx, ca->certificate_pem(), "localhost", offer).alpn == "h2");
  SSL_CTX_free(ctx);
}

TEST_CASE("tls::CertificateAuthority: a cached leaf encodes to the DER it was signed with", "[tls]") {
  TempDir dir;
  auto ca = tls::CertificateAuthority::load_or_create(dir.path / "ca");
  auto leaf = ca->leaf_for("api.example.com");
  unsigned char* first = nullptr;
  unsigned char* second = nullptr;
  int first_len = i2d_X509(leaf->certificate.get(), &first);
  int second_len = i2d_X509(leaf->certificate.get(), &second);
  REQUIRE(first_len > 0);
  CHECK(std::string(reinterpret_cast<char*>(first), first_len) == std::string(reinterpret_cast<char*>(second), second_len));
  EVP_PKEY* ca_key = nullptr;
  {
    auto ca_pem = ca->certificate_pem();
    BIO* pem = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
    X509* ca_cert = PEM_read_bio_X509(pem, nullptr, nullptr, nullptr);
    ca_key = X509_get_pubkey(ca_cert);
    X509_free(ca_cert);
    BIO_free(pem);
  }
  CHECK(X509_verify(leaf->certificate.get(), ca_key) == 1); // the signature still covers what is sent
  EVP_PKEY_free(ca_key);
  OPENSSL_free(first);
  OPENSSL_free(second);
}

TEST_CASE("tls::CertificateAuthority: a client resumes its session with an SNI host's context (TLS 1.3 and 1.2)",
          "[tls]") {
  TempDir dir;
  auto ca = tls::CertificateAuthority::load_or_create(dir.path / "ca");
  SSL_CTX* ctx = ca->make_server_context("localhost");
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    SSL_CTX_set_max_proto_version(ctx, version);
    auto first = handshake_with(ctx, ca->certificate_pem(), "api.example.com");
    REQUIRE(first.verified);
    CHECK_FALSE(first.reused);
    auto second = handshake_with(ctx, ca->certificate_pem(), "api.example.com", "", first.session.get());
    CHECK(second.verified);
    CHECK(second.reused);
  }
  SSL_CTX_free(ctx);
}
