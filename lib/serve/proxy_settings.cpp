#include "serve/serve.hpp"

#include <CLI/CLI.hpp>

namespace gostly::serve {

void add_proxy_settings(CLI::App& app, ProxySettings& settings) {
  app.add_option("--threads", settings.threads, "Proxy worker threads (0 = one per core)")->capture_default_str();
  app.add_option("--max-body", settings.max_body, "Largest request body, and most of an upstream response recorded (e.g. 512K, 64M)")
      ->capture_default_str();
  app.add_option("--upstream-timeout", settings.upstream_timeout, "Seconds to connect and get an upstream response head; then the longest pause in a streamed body")
      ->capture_default_str();
  app.add_option("--upstream-ca", settings.upstream_ca,
                 "PEM file of extra CA certificates trusted for https:// upstreams (system store and SSL_CERT_FILE too)");
  app.add_flag("--upstream-insecure", settings.upstream_insecure,
               "Do not verify https:// upstream certificates (self-signed staging hosts)");
  app.add_option("--tls-listen", settings.tls_listen,
                 "Also listen here for TLS straight from clients (SNI picks the service) and CONNECT; needs "
                 "ENABLE_TLS_INTERCEPTION (none = no such listener)");
  app.add_option("--no-intercept", settings.no_intercept,
                 "Relay CONNECT tunnels to HOST untouched instead of intercepting them (pinned clients; repeatable)");
}

} // namespace gostly::serve
