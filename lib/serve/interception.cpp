#include "serve/interception.hpp"

#include "serve/metrics.hpp"
#include "tls/authority.hpp"
#include "util/encoding.hpp"
#include "util/error.hpp"

#include <cstdlib>
#include <spdlog/spdlog.h>

namespace gostly::serve {

Interception interception_from_env() {
  const char* raw = std::getenv("ENABLE_TLS_INTERCEPTION");
  std::string value = util::to_lower(raw ? raw : "");
  if (value.empty() || value == "false" || value == "0" || value == "off" || value == "no") return Interception::off;
  if (value == "true" || value == "1" || value == "on" || value == "yes" || value == "lax") return Interception::lax;
  if (value == "strict") return Interception::strict;
  throw UsageError("ENABLE_TLS_INTERCEPTION='" + std::string(raw) + "': expected true, lax, strict or false");
}

InterceptionSetup setup_interception(const ProxySettings& settings, const std::filesystem::path& data_dir) {
  InterceptionSetup setup;
  setup.mode = interception_from_env();
  if (setup.mode == Interception::off) {
    if (!settings.tls_listen.empty() && settings.tls_listen != "none")
      throw UsageError("--tls-listen needs TLS interception: set ENABLE_TLS_INTERCEPTION=true (or strict)");
    if (!settings.no_intercept.empty())
      throw UsageError("--no-intercept needs TLS interception: set ENABLE_TLS_INTERCEPTION=true (or strict)");
    return setup;
  }
  for (const auto& host : settings.no_intercept) {
    auto hp = http::parse_host_port(host);
    setup.no_intercept.push_back(util::to_lower(hp ? hp->host : host));
  }
  try {
    setup.authority = tls::CertificateAuthority::load_or_create(data_dir / "ca");
    spdlog::info("TLS interception on: clients must trust {}", setup.authority->certificate_path().string());
  } catch (const std::exception& e) {
    if (setup.mode == Interception::strict)
      throw Error(std::string("TLS interception (ENABLE_TLS_INTERCEPTION=strict): ") + e.what());
    spdlog::error("TLS interception is off, plain HTTP keeps serving: {} (ENABLE_TLS_INTERCEPTION=strict would stop here)",
                  e.what());
  }
  return setup;
}

void apply_interception(const InterceptionSetup& setup, http::ServerOptions& options, Metrics& metrics, bool takes_tls) {
  if (!setup.authority) return;
  options.authority = setup.authority;
  options.takes_tls = takes_tls;
  options.on_handshake = [&metrics](bool ok) { metrics.count_tls_handshake(ok); };
  metrics.set_leaf_cache_source([authority = setup.authority] { return authority->leaf_cache_size(); });
}

std::unique_ptr<http::Server> open_tls_listener(const InterceptionSetup& setup, const ProxySettings& settings,
                                                http::ServerOptions options, const http::Handler& handler,
                                                const std::string& default_address) {
  std::string address = settings.tls_listen.empty() ? default_address : settings.tls_listen;
  if (address.empty() || address == "none" || !setup.authority) return nullptr;
  options.listen = address;
  options.takes_tls = true;
  try {
    auto server = std::make_unique<http::Server>(options, handler);
    server->start();
    return server;
  } catch (const UsageError& e) {
    throw UsageError(std::string("--tls-listen: ") + e.what());
  } catch (const std::exception& e) {
    if (setup.mode == Interception::strict)
      throw Error(std::string("--tls-listen (ENABLE_TLS_INTERCEPTION=strict): ") + e.what());
    spdlog::error("--tls-listen: {}; plain HTTP keeps serving (ENABLE_TLS_INTERCEPTION=strict would stop here)", e.what());
    return nullptr;
  }
}

} // namespace gostly::serve
