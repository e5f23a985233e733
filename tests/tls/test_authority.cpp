#include "tls/authority.hpp"

#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
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

// Runs a TLS handshake entirely in memory (two BIO pairs), as a client that trusts only
// `ca_pem` and checks the hostname; returns true when the client verified the server.
bool handshake(SSL_CTX* server_ctx, const std::string& ca_pem, const std::string& host) {
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
  bool verified = done && SSL_get_verify_result(client) == X509_V_OK;
  SSL_free(client);
  SSL_free(server);
  SSL_CTX_free(client_ctx);
  return verified;
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
