#pragma once
// The client side of POST /v1/transition on a running gostly-serve's control API (libcurl):
// `begin` puts the server in TRANSITIONING (503 + Retry-After to proxy traffic), `end` makes it
// reload the touched services' libraries and return to its previous mode (or `then_mode`),
// `abort` returns it to its previous mode without reloading.
#include <optional>
#include <string>

namespace gostly::transition {

class ControlClient {
public:
  /// `host_port` is the control API address (`127.0.0.1:8000`); `api_key` goes in X-API-Key.
  /// Throws UsageError when either is empty or malformed.
  ControlClient(std::string host_port, std::string api_key);

  void begin();
  void end(const std::optional<std::string>& then_mode);
  void abort();

  /// Sends `{"action": action[, "mode": mode]}`; returns the response body on 2xx and throws
  /// gostly::Error naming the address, action and HTTP status (or curl's error) otherwise.
  std::string post_transition(const std::string& action, const std::optional<std::string>& mode = std::nullopt);

private:
  std::string url_;
  std::string host_port_;
  std::string api_key_;
};

} // namespace gostly::transition
