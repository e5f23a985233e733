#pragma once
// The MITM certificate authority behind the TLS-interception listener. On first use it creates
// `ca/ca.crt` and `ca/ca.key` (EC P-256, key file mode 0600, created 0600 from the
// start so it is never readable by others even for a moment); later runs load them. Leaf
// certificates for the hosts clients ask for (SNI) are minted on demand, signed by the CA and
// cached in memory, so a client that trusts ca.crt once accepts every intercepted host.
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

struct ssl_ctx_st;
struct x509_st;
struct evp_pkey_st;

namespace gostly::tls {

struct X509Deleter {
  void operator()(x509_st* cert) const noexcept;
};
struct KeyDeleter {
  void operator()(evp_pkey_st* key) const noexcept;
};
using X509Ptr = std::unique_ptr<x509_st, X509Deleter>;
using KeyPtr = std::unique_ptr<evp_pkey_st, KeyDeleter>;

struct LeafCertificate {
  X509Ptr certificate;
  KeyPtr key;
  std::string certificate_pem() const;
};

class CertificateAuthority {
public:
  /// Loads the CA from `ca_dir`, or creates it there (directory 0700, key 0600). Throws
  /// gostly::Error naming the file when an existing CA cannot be read or is not a CA.
  static std::shared_ptr<CertificateAuthority> load_or_create(const std::filesystem::path& ca_dir);

  std::string certificate_pem() const;
  const std::filesystem::path& certificate_path() const noexcept { return certificate_path_; }

  /// A leaf certificate for `host` (a DNS name or an IP literal), valid for about a year,
  /// signed by this CA; minted once per host and cached.
  std::shared_ptr<const LeafCertificate> leaf_for(const std::string& host);
  /// How many leaves are cached (gostly_tls_leaf_cache_size).
  std::size_t leaf_cache_size();

  /// A TLS server context (TLS 1.2+, ALPN http/1.1) whose SNI callback switches each handshake to
  /// a context of its own for the servername, presenting leaf_for(servername) (made once per name);
  /// `default_host` is used when the client sends no SNI. `configure` is applied to this context and
  /// to every per-name one (e.g. an ALPN callback: OpenSSL asks the switched-to context). The caller
  /// owns the returned context (SSL_CTX_free) and keeps this authority alive while it is used.
  ssl_ctx_st* make_server_context(const std::string& default_host, std::function<void(ssl_ctx_st*)> configure = {});

  CertificateAuthority(X509Ptr certificate, KeyPtr key, std::filesystem::path certificate_path);

private:
  X509Ptr certificate_;
  KeyPtr key_;
  std::filesystem::path certificate_path_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const LeafCertificate>> leaves_;
};

} // namespace gostly::tls
