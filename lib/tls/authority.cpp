#include "tls/authority.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gostly::tls {

void X509Deleter::operator()(x509_st* cert) const noexcept { X509_free(cert); }
void KeyDeleter::operator()(evp_pkey_st* key) const noexcept { EVP_PKEY_free(key); }

namespace {

[[noreturn]] void openssl_fail(const std::string& what) {
  char buf[256] = "unknown error";
  if (unsigned long code = ERR_get_error()) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  throw Error(what + ": " + buf);
}

KeyPtr generate_key() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) openssl_fail("cannot generate an EC key");
  return key;
}

std::string to_pem(x509_st* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return pem;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) openssl_fail(std::string("cannot build certificate extension ") + OBJ_nid2sn(nid));
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

void set_random_serial(X509* cert) {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  bytes[0] &= 0x7F; // positive
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
}

// The subjectAltName of a leaf: IP:addr for an IPv4 or IPv6 literal, else DNS:name. Built as a
// GENERAL_NAME, not through OpenSSL's "DNS:a,IP:b" config syntax, so a client-chosen SNI name is
// always exactly one name (a comma in it can never add a second).
void add_subject_alt_name(X509* cert, const std::string& host) {
  unsigned char ip[16];
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (::inet_pton(AF_INET, host.c_str(), ip) == 1 || ::inet_pton(AF_INET6, host.c_str(), ip) == 1) {
    int len = host.find(':') == std::string::npos ? 4 : 16;
    ASN1_OCTET_STRING* octets = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(octets, ip, len);
    GENERAL_NAME_set0_value(name, GEN_IPADD, octets);
  } else {
    ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
    ASN1_STRING_set(dns, host.data(), static_cast<int>(host.size()));
    GENERAL_NAME_set0_value(name, GEN_DNS, dns);
  }
  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  sk_GENERAL_NAME_push(names, name);
  int ok = X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
  GENERAL_NAMES_free(names);
  if (ok != 1) openssl_fail("cannot add the subjectAltName for " + host);
}

// What a leaf may be minted for: an IP literal or a DNS name (letters, digits, '-', '_', '.', a
// leading "*." wildcard), at most 253 characters. Anything else in an SNI name is refused.
bool is_host_name(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  unsigned char ip[16];
  if (::inet_pton(AF_INET6, host.c_str(), ip) == 1) return true;
  for (std::size_t i = 0; i < host.size(); ++i) {
    char c = host[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
              (c == '*' && i == 0 && host.size() > 2 && host[1] == '.');
    if (!ok) return false;
  }
  return true;
}

constexpr std::size_t kLeafCacheMax = 10000; // distinct SNI names kept; past it the cache starts over

// Writes `bytes` to `path` created with `mode` from the start (never wider), via a temp + rename.
void write_private_file(const std::filesystem::path& path, const std::string& bytes, mode_t mode) {
  auto temp = path;
  temp += ".tmp." + std::to_string(::getpid());
  // A new file only (O_EXCL, never through a symlink someone planted); a stale temp is removed once.
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(temp.c_str(), flags, mode);
  if (fd < 0 && errno == EEXIST && ::unlink(temp.c_str()) == 0) fd = ::open(temp.c_str(), flags, mode);
  if (fd < 0) throw Error("cannot create " + temp.string() + ": " + std::strerror(errno));
  ::fchmod(fd, mode); // umask may have narrowed it; never widened beyond `mode`
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    throw Error("cannot write " + path.string() + ": " + std::strerror(errno));
  }
}

int servername_callback(SSL* ssl, int*, void* arg) {
  auto* authority = static_cast<CertificateAuthority*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name || !*name) return SSL_TLSEXT_ERR_NOACK; // keep the default certificate
  try {
    auto leaf = authority->leaf_for(name);
    if (SSL_use_certificate(ssl, leaf->certificate.get()) != 1 || SSL_use_PrivateKey(ssl, leaf->key.get()) != 1)
      return SSL_TLSEXT_ERR_ALERT_FATAL;
  } catch (const std::exception&) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

int alpn_callback(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                  void*) {
  static const unsigned char http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, http11, sizeof http11, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

} // namespace

CertificateAuthority::CertificateAuthority(X509Ptr certificate, KeyPtr key, std::filesystem::path certificate_path)
    : certificate_(std::move(certificate)), key_(std::move(key)), certificate_path_(std::move(certificate_path)) {}

std::shared_ptr<CertificateAuthority> CertificateAuthority::load_or_create(const std::filesystem::path& ca_dir) {
  const auto cert_path = ca_dir / "ca.crt";
  const auto key_path = ca_dir / "ca.key";
  std::error_code ec;
  bool have_cert = std::filesystem::exists(cert_path, ec), have_key = std::filesystem::exists(key_path, ec);
  // Half a CA is an error, never a reason to make a new one: clients trust the old ca.crt.
  if (have_cert != have_key)
    throw Error((have_cert ? key_path : cert_path).string() + " is missing but " +
                (have_cert ? cert_path : key_path).string() + " exists: restore it, or remove " + ca_dir.string() +
                " to make a new CA (clients must then trust the new ca.crt)");
  if (have_cert && have_key) {
    FILE* cf = std::fopen(cert_path.c_str(), "r");
    if (!cf) throw Error("cannot open " + cert_path.string() + ": " + std::strerror(errno));
    X509Ptr cert(PEM_read_X509(cf, nullptr, nullptr, nullptr));
    std::fclose(cf);
    if (!cert) openssl_fail("cannot read the CA certificate " + cert_path.string());
    FILE* kf = std::fopen(key_path.c_str(), "r");
    if (!kf) throw Error("cannot open " + key_path.string() + ": " + std::strerror(errno));
    KeyPtr key(PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr));
    std::fclose(kf);
    if (!key) openssl_fail("cannot read the CA key " + key_path.string());
    if (X509_check_private_key(cert.get(), key.get()) != 1)
      throw Error(key_path.string() + " does not belong to " + cert_path.string());
    if (X509_check_ca(cert.get()) == 0) throw Error(cert_path.string() + " is not a CA certificate");
    ::chmod(key_path.c_str(), 0600); // repair a key someone loosened
    return std::make_shared<CertificateAuthority>(std::move(cert), std::move(key), cert_path);
  }

  // The CA directory is made 0700 from the start (not made and then narrowed), so under a wide
  // umask no one else can put anything in it in between.
  if (ca_dir.has_parent_path()) std::filesystem::create_directories(ca_dir.parent_path());
  if (::mkdir(ca_dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw Error("cannot create " + ca_dir.string() + ": " + std::strerror(errno));
  ::chmod(ca_dir.c_str(), 0700);
  KeyPtr key = generate_key();
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  set_random_serial(cert.get());
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("gostly"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("gostly MITM CA (local)"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) openssl_fail("cannot sign the CA certificate");

  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string key_pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  write_private_file(key_path, key_pem, 0600);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  write_private_file(cert_path, to_pem(cert.get()), 0644);
  return std::make_shared<CertificateAuthority>(std::move(cert), std::move(key), cert_path);
}

std::string CertificateAuthority::certificate_pem() const { return to_pem(certificate_.get()); }

std::string LeafCertificate::certificate_pem() const { return to_pem(certificate.get()); }

std::shared_ptr<const LeafCertificate> CertificateAuthority::leaf_for(const std::string& requested) {
  std::string host = util::to_lower(requested); // host names are case-insensitive: one leaf each
  // One lock around lookup and minting: many handshakes for a new host mint its leaf once.
  std::lock_guard lock(mutex_);
  if (auto it = leaves_.find(host); it != leaves_.end()) return it->second;
  if (!is_host_name(host)) throw Error("cannot mint a certificate for '" + requested + "': not a host name");
  // A client making up names must not grow memory without end: leaves handed out stay valid.
  if (leaves_.size() >= kLeafCacheMax) leaves_.clear();

  auto leaf = std::make_shared<LeafCertificate>();
  leaf->key = generate_key();
  leaf->certificate.reset(X509_new());
  X509* cert = leaf->certificate.get();
  X509_set_version(cert, 2);
  set_random_serial(cert);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 397L * 24 * 3600); // within browsers' 398-day limit
  X509_set_pubkey(cert, leaf->key.get());
  if (host.size() <= 64) { // the CN's upper bound; clients go by the subjectAltName anyway
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(host.c_str()), -1,
                               -1, 0);
  }
  X509_set_issuer_name(cert, X509_get_subject_name(certificate_.get()));
  add_subject_alt_name(cert, host);
  add_extension(cert, certificate_.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert, certificate_.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_extension(cert, certificate_.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert, certificate_.get(), NID_authority_key_identifier, "keyid:always");
  if (!X509_sign(cert, key_.get(), EVP_sha256())) openssl_fail("cannot sign a leaf certificate for " + host);
  leaves_.emplace(host, leaf);
  return leaf;
}

std::size_t CertificateAuthority::leaf_cache_size() {
  std::lock_guard lock(mutex_);
  return leaves_.size();
}

ssl_ctx_st* CertificateAuthority::make_server_context(const std::string& default_host) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) openssl_fail("cannot create a TLS context");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  auto leaf = leaf_for(default_host);
  if (SSL_CTX_use_certificate(ctx, leaf->certificate.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, leaf->key.get()) != 1) {
    SSL_CTX_free(ctx);
    openssl_fail("cannot install the default certificate");
  }
  SSL_CTX_set_tlsext_servername_callback(ctx, servername_callback);
  SSL_CTX_set_tlsext_servername_arg(ctx, this);
  SSL_CTX_set_alpn_select_cb(ctx, alpn_callback, nullptr);
  return ctx;
}

} // namespace gostly::tls
