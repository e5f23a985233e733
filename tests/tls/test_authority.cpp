#include "tls/authority.hpp"

#include "util/error.hpp"
#include "util/time.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

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

namespace {
X509* read_pem_certificate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

// X509_verify_cert with the CA as the only root and the sslserver purpose (so the EKU counts).
int verify_against(const std::string& ca_pem, X509* leaf) {
  X509* ca = read_pem_certificate(ca_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  int ok = X509_verify_cert(ctx);
  int error = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(ca);
  return ok == 1 ? X509_V_OK : (error == X509_V_OK ? -1 : error);
}

// The subjectAltName entries as "DNS:name" / "IP:addr" strings, in order.
std::vector<std::string> san_entries(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* s = name->d.dNSName;
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(s->data), static_cast<std::size_t>(s->length)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = name->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = "";
      ::inet_ntop(s->length == 4 ? AF_INET : AF_INET6, s->data, text, sizeof text);
      out.push_back(std::string("IP:") + text);
    } else {
      out.push_back("other:" + std::to_string(name->type));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

struct Umask {
  mode_t saved;
  explicit Umask(mode_t mask) : saved(::umask(mask)) {}
  ~Umask() { ::umask(saved); }
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void spill(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}
} // namespace

TEST_CASE("tls::CertificateAuthority: a leaf chains to ca.crt as the only root, for server auth", "[tls]") {
  TempDir dir;
  auto ca = tls::CertificateAuthority::load_or_create(dir.path / "ca");
  std::string ca_on_disk = slurp(dir.path / "ca" / "ca.crt");
  REQUIRE(ca_on_disk == ca->certificate_pem());
  for (const char* host : {"api.example.com", "127.0.0.1", "::1", "localhost"}) {
    INFO(host);
    auto leaf = ca->leaf_for(host);
    CHECK(verify_against(ca_on_disk, leaf->certificate.get()) == X509_V_OK);
    // serverAuth is in the extended key usage, and the leaf is no CA.
    CHECK((X509_get_extended_key_usage(leaf->certificate.get()) & XKU_SSL_SERVER) != 0);
    CHECK(X509_check_ca(leaf->certificate.get()) == 0);
    // Browsers refuse leaves valid for more than 398 days.
    int days = 0, seconds = 0;
    REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(leaf->certificate.get()),
                           X509_get0_notAfter(leaf->certificate.get())) == 1);
    CHECK(days * 86400L + seconds <= 398L * 86400);
    CHECK(days >= 300); // and not uselessly short
    // The PEM a client sees is the same certificate.
    X509* reread = read_pem_certificate(leaf->certificate_pem());
    REQUIRE(reread);
    CHECK(X509_cmp(reread, leaf->certificate.get()) == 0);
    X509_free(reread);
  }
  // A leaf from another CA does not chain to this one.
  TempDir other;
  auto stranger = tls::CertificateAuthority::load_or_create(other.path / "ca");
  CHECK(verify_against(ca_on_disk, stranger->leaf_for("api.example.com")->certificate.get()) != X509_V_OK);
}

TEST_CASE("tls::CertificateAuthority: SAN is DNS:name for names, IP:addr for IPv4 and IPv6 literals", "[tls]") {
  TempDir dir;
  auto ca = tls::CertificateAuthority::load_or_create(dir.path / "ca");
  using V = std::vector<std::string>;
  CHECK(san_entries(ca->leaf_for("api.example.com")->certificate.get()) == V{"DNS:api.example.com"});
  CHECK(san_entries(ca->leaf_for("localhost")->certificate.get()) == V{"DNS:localhost"});
  CHECK(san_entries(ca->leaf_for("127.0.0.1")->certificate.get()) == V{"IP:127.0.0.1"});
  CHECK(san_entries(ca->leaf_for("10.1.2.3")->certificate.get()) == V{"IP:10.1.2.3"});
  CHECK(san_entries(ca->leaf_for("::1")->certificate.get()) == V{"IP:::1"});
  CHECK(san_entries(ca->leaf_for("2001:db8::42")->certificate.get()) == V{"IP:2001:db8::42"});
  CHECK(X509_check_ip_asc(ca->leaf_for("::1")->certificate.get(), "::1", 0) == 1);
  CHECK(X509_check_ip_asc(ca->leaf_for("2001:db8::42")->certificate.get(), "2001:db8::42", 0) == 1);

  // A long but valid DNS name (63-character labels, beyond the 64-character CN limit) still gets its SAN.
  std::string label(63, 'a');
  std::string long_name = label + "." + label + "." + label + ".example";
  CHECK(san_entries(ca->leaf_for(long_name)->certificate.get()) == V{"DNS:" + long_name});
  CHECK(X509_check_host(ca->leaf_for(long_name)->certificate.get(), long_name.c_str(), long_name.size(), 0, nullptr) == 1);

  // A client-chosen SNI name is one name: a comma in it never adds a second SAN entry.
  std::string sneaky = "a.example,DNS:bank.example";
  try {
    auto leaf = ca->leaf_for(sneaky);
    CHECK(X509_check_host(leaf->certificate.get(), "bank.example", 0, 0, nullptr) != 1);
    CHECK(san_entries(leaf->certificate.get()).size() <= 1);
  } catch (const Error&) {
    SUCCEED("refused");
  }
}

TEST_CASE("tls::CertificateAuthority: key 0600 and CA dir 0700 even under umask 000", "[tls]") {
  TempDir dir;
  {
    Umask open_umask(0);
    tls::CertificateAuthority::load_or_create(dir.path / "data" / "ca");
  }
  CHECK(mode_of(dir.path / "data" / "ca") == 0700);
  CHECK(mode_of(dir.path / "data" / "ca" / "ca.key") == 0600);
  CHECK((mode_of(dir.path / "data" / "ca" / "ca.crt") & 0022) == 0); // the certificate is public but not writable by others
  // No temporary file is left behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path / "data" / "ca")) ++entries;
  CHECK(entries == 2);
  // A key someone loosened is tightened again on the next load.
  fs::permissions(dir.path / "data" / "ca" / "ca.key", fs::perms::owner_read | fs::perms::owner_write |
                                                         fs::perms::group_read | fs::perms::others_read);
  tls::CertificateAuthority::load_or_create(dir.path / "data" / "ca");
  CHECK(mode_of(dir.path / "data" / "ca" / "ca.key") == 0600);
}

TEST_CASE("tls::CertificateAuthority: a corrupt or mismatched CA is an error naming the file", "[tls]") {
  TempDir dir, other;
  auto ca_dir = dir.path / "ca";
  tls::CertificateAuthority::load_or_create(ca_dir);
  tls::CertificateAuthority::load_or_create(other.path / "ca");
  const std::string good_key = slurp(ca_dir / "ca.key");
  const std::string good_cert = slurp(ca_dir / "ca.crt");
  auto message_of = [&] {
    try {
      tls::CertificateAuthority::load_or_create(ca_dir);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };

  SECTION("garbage ca.key") {
    spill(ca_dir / "ca.key", "not a key\n");
    CHECK_THAT(message_of(), Catch::Contains((ca_dir / "ca.key").string()));
  }
  SECTION("truncated ca.key") {
    spill(ca_dir / "ca.key", good_key.substr(0, good_key.size() / 2));
    CHECK_THAT(message_of(), Catch::Contains((ca_dir / "ca.key").string()));
  }
  SECTION("ca.key of another CA") {
    spill(ca_dir / "ca.key", slurp(other.path / "ca" / "ca.key"));
    CHECK_THAT(message_of(), Catch::Contains((ca_dir / "ca.key").string()));
  }
  SECTION("garbage ca.crt") {
    spill(ca_dir / "ca.crt", "garbage\n");
    CHECK_THAT(message_of(), Catch::Contains((ca_dir / "ca.crt").string()));
  }
  SECTION("ca.crt present, ca.key missing: an error, the trusted certificate is not replaced") {
    fs::remove(ca_dir / "ca.key");
    CHECK_THAT(message_of(), Catch::Contains((ca_dir / "ca.key").string()));
    CHECK(slurp(ca_dir / "ca.crt") == good_cert);
  }
  SECTION("ca.key present, ca.crt missing: an error, the key is not replaced") {
    fs::remove(ca_dir / "ca.crt");
    CHECK_THAT(message_of(), Catch::Contains((ca_dir / "ca.crt").string()));
    CHECK(slurp(ca_dir / "ca.key") == good_key);
  }
}

TEST_CASE("tls::CertificateAuthority: many threads asking for one host's leaf mint it once", "[tls]") {
  TempDir dir;
  auto ca = tls::CertificateAuthority::load_or_create(dir.path / "ca");
  constexpr int kThreads = 16;
  std::vector<std::shared_ptr<const tls::LeafCertificate>> got(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      got[i] = ca->leaf_for(i % 2 ? "same.example" : "SAME.example");
    });
  for (auto& t : threads) t.join();
  for (const auto& leaf : got) CHECK(leaf == got[0]); // host names are case-insensitive: one leaf
  CHECK(ca->leaf_cache_size() == 1);
}

TEST_CASE("tls::CertificateAuthority: a planted symlink at the temporary key path is not followed", "[tls]") {
  TempDir dir;
  auto ca_dir = dir.path / "ca";
  fs::create_directories(ca_dir);
  fs::permissions(ca_dir, fs::perms::owner_all);
  auto victim = dir.path / "victim";
  spill(victim, "untouched");
  fs::create_symlink(victim, ca_dir / ("ca.key.tmp." + std::to_string(::getpid())));
  tls::CertificateAuthority::load_or_create(ca_dir);
  CHECK(slurp(victim) == "untouched"); // the private key never went through the link
  CHECK(mode_of(ca_dir / "ca.key") == 0600);
  CHECK_FALSE(fs::is_symlink(ca_dir / "ca.key"));
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
