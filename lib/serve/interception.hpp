#pragma once
// TLS interception as gostly-serve and gostly-record set it up: ENABLE_TLS_INTERCEPTION, the CA
// in the data dir, the --tls-listen listener and the handshake metrics.
#include "http/server.hpp"
#include "serve/serve.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace gostly::tls {
class CertificateAuthority;
}

namespace gostly::serve {

class Metrics;

/// ENABLE_TLS_INTERCEPTION: unset/false/0/off = off; true/1/on/lax = lax (a TLS set-up failure is
/// logged and plain HTTP keeps serving); strict = a TLS set-up failure ends the process.
enum class Interception { off, lax, strict };
/// Reads ENABLE_TLS_INTERCEPTION; throws UsageError naming it for any other value.
Interception interception_from_env();

struct InterceptionSetup {
  Interception mode = Interception::off;
  std::shared_ptr<tls::CertificateAuthority> authority; // null when off or when lax set-up failed
  std::vector<std::string> no_intercept;                // lower-case hosts, ports dropped
};

/// Loads or creates `<data_dir>/ca`. Throws UsageError for --tls-listen or --no-intercept
/// without interception, Error for a CA that cannot be used under `strict`.
InterceptionSetup setup_interception(const ProxySettings& settings, const std::filesystem::path& data_dir);

/// Fills the TLS fields of a listener's options and hooks the handshake counter to `metrics`.
void apply_interception(const InterceptionSetup& setup, http::ServerOptions& options, Metrics& metrics, bool takes_tls);

/// The --tls-listen listener (`default_address` when the flag is not given; "none" = no
/// listener), started; null when there is none, or when it cannot bind under `lax` (logged).
/// Throws under `strict`.
std::unique_ptr<http::Server> open_tls_listener(const InterceptionSetup& setup, const ProxySettings& settings,
                                                http::ServerOptions options, const http::Handler& handler,
                                                const std::string& default_address = {});

/// gostly-serve's TLS port when interception is on and --tls-listen is not given (DESIGN.md).
inline constexpr const char* kDefaultTlsListen = "127.0.0.1:8443";

} // namespace gostly::serve
