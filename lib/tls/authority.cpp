#include "tls/authority.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <shared_mutex>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace gostly::tls {

void X509Deleter::operator()(x509_st* cert) const noexcept { X509_free(cert); }
void KeyDeleter::operator()(evp_pkey_st* key) const noexcept { EVP_PKEY_free(key); }

namespace {

// OpenSSL clears its error queue before each SSL_read and SSL_write Asio makes (three a request
// over TLS), and ERR_clear_error frees all 16 slots' strings: 32 free(NULL)s. glibc returns from
// those at once; tcmalloc, which gostly-serve links, spends ~40 instructions on each, ~3k of a
// keep-alive TLS request's ~31k. So OpenSSL's frees skip NULL here, with its own semantics for
// size 0 kept. Installed before OpenSSL allocates anything (a constructor that runs ahead of the
// C++ static objects, Asio's OpenSSL initialisation among them); had it allocated, this is a no-op.
void* openssl_malloc(std::size_t size, const char*, int) { return size ? std::malloc(size) : nullptr; }
void* openssl_realloc(void* ptr, std::size_t size, const char*, int) {
  if (!ptr) return size ? std::malloc(size) : nullptr;
  if (size == 0) {
    std::free(ptr);
    return nullptr;
  }
  return std::realloc(ptr, size);
}
void openssl_free(void* ptr, const char*, int) {
  if (ptr) std::free(ptr);
}
__attribute__((constructor(101))) void openssl_frees_skip_null() {
  CRYPTO_set_mem_functions(openssl_malloc, openssl_realloc, openssl_free);
}

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

// The certificate parsed back from its DER. A certificate built in memory is DER-encoded anew by
// each i2d_X509 (twice a handshake, for the Certificate message: about 60k instructions); a parsed
// one keeps its encoding, as nginx's certificate loaded from a file does.
X509Ptr reparsed(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len <= 0) openssl_fail("cannot encode a leaf certificate");
  const unsigned char* p = der;
  X509Ptr parsed(d2i_X509(nullptr, &p, len));
  OPENSSL_free(der);
  if (!parsed) openssl_fail("cannot re-read a leaf certificate");
  return parsed;
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

int alpn_callback(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                  void*);

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

constexpr std::size_t kHostContextsMax = 10000; // distinct SNI names with a context; past it, start over

// A server context presenting `leaf` (TLS 1.2+, ALPN http/1.1 unless `configure` sets its own).
SSL_CTX* new_server_context(const LeafCertificate& leaf, const std::function<void(ssl_ctx_st*)>& configure) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) openssl_fail("cannot create a TLS context");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate(ctx, leaf.certificate.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, leaf.key.get()) != 1) {
    SSL_CTX_free(ctx);
    openssl_fail("cannot install a leaf certificate");
  }
  SSL_CTX_set_alpn_select_cb(ctx, alpn_callback, nullptr);
  if (configure) configure(ctx);
  return ctx;
}

// One context per SNI name, made once with the host's leaf: the SNI callback switches a handshake
// to it (SSL_set_SSL_CTX, what nginx does per server block) instead of installing the leaf on each
// connection with SSL_use_certificate + SSL_use_PrivateKey, which re-check the key against the
// certificate every time. Hangs off the context make_server_context returns (ex_data), freed with it.
struct HostContexts {
  CertificateAuthority* authority;
  std::function<void(ssl_ctx_st*)> configure;
  std::shared_mutex mutex;
  std::unordered_map<std::string, SSL_CTX*, StringHash, std::equal_to<>> by_host;

  ~HostContexts() { clear(); }
  void clear() {
    for (auto& entry : by_host) SSL_CTX_free(entry.second); // handshakes using one hold their own reference
    by_host.clear();
  }

  SSL_CTX* for_host(std::string_view host) {
    {
      std::shared_lock lock(mutex);
      if (auto it = by_host.find(host); it != by_host.end()) return it->second;
    }
    auto leaf = authority->leaf_for(std::string(host)); // minting happens outside this lock
    SSL_CTX* ctx = new_server_context(*leaf, configure);
    std::unique_lock lock(mutex);
    if (auto it = by_host.find(host); it != by_host.end()) { // another worker made it meanwhile
      SSL_CTX_free(ctx);
      return it->second;
    }
    if (by_host.size() >= kHostContextsMax) clear();
    by_host.emplace(std::string(host), ctx);
    return ctx;
  }
};

void free_host_contexts(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<HostContexts*>(ptr); }

int host_contexts_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_host_contexts);
  return index;
}

int servername_callback(SSL* ssl, int*, void* arg) {
  auto* hosts = static_cast<HostContexts*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name || !*name) return SSL_TLSEXT_ERR_NOACK; // keep the default certificate
  try {
    if (!SSL_set_SSL_CTX(ssl, hosts->for_host(name))) return SSL_TLSEXT_ERR_ALERT_FATAL;
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
  leaf->certificate = reparsed(cert);
  leaves_.emplace(host, leaf);
  return leaf;
}

std::size_t CertificateAuthority::leaf_cache_size() {
  std::lock_guard lock(mutex_);
  return leaves_.size();
}

ssl_ctx_st* CertificateAuthority::make_server_context(const std::string& default_host,
                                                       std::function<void(ssl_ctx_st*)> configure) {
  SSL_CTX* ctx = new_server_context(*leaf_for(default_host), configure);
  auto* hosts = new HostContexts{this, std::move(configure), {}, {}};
  if (SSL_CTX_set_ex_data(ctx, host_contexts_index(), hosts) != 1) {
    delete hosts;
    SSL_CTX_free(ctx);
    openssl_fail("cannot create a TLS context");
  }
  SSL_CTX_set_tlsext_servername_callback(ctx, servername_callback);
  SSL_CTX_set_tlsext_servername_arg(ctx, hosts);
  return ctx;
}

} // namespace gostly::tls
