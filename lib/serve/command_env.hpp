#pragma once
// The environment `gostly-record -- CMD` gives CMD, so an unmodified test suite (curl, Python
// requests, Node, git, Go) sends its traffic through the recorder and trusts the interception CA.
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gostly::serve {

struct CommandEnvSettings {
  std::string proxy_url;                 // http://HOST:PORT of the recording proxy
  std::string proxy_authority;           // its HOST:PORT, exempted through NO_PROXY
  /// Both set only when interception is on and its CA is loaded: CMD then gets HTTPS_PROXY and
  /// the trust variables. Absolute paths, since CMD may change directory.
  std::filesystem::path ca_file;         // the gostly CA alone (NODE_EXTRA_CA_CERTS adds to Node's roots)
  std::filesystem::path bundle_file;     // system roots + the gostly CA
  /// More NAME=VALUE pairs set the same way (`gostly-serve -- CMD`: GOSTLY_CONTROL_URL, ...),
  /// and more HOST:PORT added to NO_PROXY (its control API, which must not go through the proxy).
  std::vector<std::pair<std::string, std::string>> extra;
  std::vector<std::string> no_proxy_extra;
};

/// `parent` (NAME=VALUE entries, e.g. from environ) with the proxy variables set for CMD:
/// - always GOSTLY_PROXY_URL, HTTP_PROXY, http_proxy = proxy_url, NODE_USE_ENV_PROXY=1 (Node
///   releases that read the proxy variables only do so with it);
/// - NO_PROXY and no_proxy = the inherited list (either spelling, merged) plus proxy_authority, so
///   a client pointed at GOSTLY_PROXY_URL is not sent through itself by clients that honour ports
///   in NO_PROXY (Python, Go, Node); loopback names are not added, since the upstreams under test
///   are often on 127.0.0.1 and must be recorded;
/// - with interception: HTTPS_PROXY, https_proxy = proxy_url; SSL_CERT_FILE, REQUESTS_CA_BUNDLE,
///   CURL_CA_BUNDLE, GIT_SSL_CAINFO = bundle_file; NODE_EXTRA_CA_CERTS = ca_file. Without it an
///   inherited HTTPS_PROXY is left alone (CONNECT would be refused with 501 here).
/// Every inherited entry for a variable that is set is dropped, whatever its case.
std::vector<std::string> command_environment(const std::vector<std::string>& parent, const CommandEnvSettings& settings);

/// The PEM file with the trust roots CMD had before: `inherited_cert_file` (its SSL_CERT_FILE)
/// when it names a readable file, else /etc/ssl/certs/ca-certificates.crt, else OpenSSL's
/// default certificate file; empty when none is readable.
std::filesystem::path system_roots_file(std::string_view inherited_cert_file);

/// Writes `roots` (a PEM file; may be empty = none) followed by `ca_pem` to `bundle` atomically
/// (mode 0644: certificates only) and returns false when `roots` could not be read (the bundle then
/// holds the gostly CA alone). Throws gostly::Error when the bundle cannot be written.
bool write_ca_bundle(const std::filesystem::path& bundle, const std::filesystem::path& roots, std::string_view ca_pem);

} // namespace gostly::serve
