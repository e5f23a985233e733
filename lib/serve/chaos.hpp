#pragma once
// Chaos per service: added latency, injected error answers and dropped connections, in MOCK and
// PASSTHROUGH (never LEARN: recordings stay faithful). Configured with PUT /services/{id}
// {"chaos":{...}} (persisted in library.db) or `gostly-serve --chaos SERVICE=SPEC`.
//
// Decisions are a pure function of (seed, n), n being the service's request counter: with a seed
// a run sees the same sequence of delays, errors and drops every time (for one client sending
// its requests in order), without one the seed is drawn at random when the config is set.
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gostly::serve {

/// The longest latency a chaos config may add (ms): a slow service, not a hung one.
inline constexpr std::uint32_t kMaxChaosLatencyMs = 60'000;

struct ChaosSpec {
  std::uint32_t latency_min_ms = 0;
  std::uint32_t latency_max_ms = 0;
  double error_rate = 0;     // share of requests answered `error_status`
  int error_status = 503;
  double drop_rate = 0;      // share of requests whose connection (HTTP/2: stream) is cut unanswered
  std::optional<std::uint64_t> seed;
  bool operator==(const ChaosSpec&) const = default;
};

/// A chaos config that cannot be used; `field` is its path (`chaos.error_rate`).
struct ChaosError {
  std::string field;
  std::string reason;
  std::string message() const { return field + ": " + reason; }
};

/// Parses and checks the JSON form (`{"latency_ms":[min,max],"error_rate":0.05,
/// "error_status":503,"drop_rate":0.01,"seed":42}`; every field optional, `latency_ms` also a
/// single number). Throws ChaosError naming the field: unknown fields, rates outside [0,1] or
/// summing past 1, a status outside 200-599, min > max, latency past kMaxChaosLatencyMs.
ChaosSpec parse_chaos(const nlohmann::json& value);
/// The JSON form of `spec` (what GET /services/{id} shows and library.db stores).
nlohmann::json to_json(const ChaosSpec& spec);

/// `SERVICE=SPEC` of `gostly-serve --chaos`: SPEC is the JSON object or the short form
/// `latency_ms=100-300,error_rate=0.05,error_status=503,drop_rate=0.01,seed=42` (same keys and
/// rules). Throws UsageError naming the option and the field.
std::pair<std::string, ChaosSpec> parse_chaos_option(std::string_view text);

enum class ChaosAction { pass, error, drop };

struct ChaosDecision {
  ChaosAction action = ChaosAction::pass;
  std::chrono::milliseconds delay{0};
};

/// The decision for request number `n` under `seed`: one hash of both picks the action (drop
/// with probability drop_rate, error with error_rate, else pass) and a second the delay,
/// uniform in [min, max].
ChaosDecision decide(const ChaosSpec& spec, std::uint64_t seed, std::uint64_t n) noexcept;

/// One service's chaos: the config and its request counter. Shared by the routing tables that
/// carry it, so changing another field of the service keeps the sequence going; a new config
/// starts it again at 0.
class Chaos {
public:
  explicit Chaos(ChaosSpec spec);
  const ChaosSpec& spec() const noexcept { return spec_; }
  /// The next request's decision (thread-safe).
  ChaosDecision next() noexcept { return decide(spec_, seed_, counter_.fetch_add(1, std::memory_order_relaxed)); }

private:
  ChaosSpec spec_;
  std::uint64_t seed_;
  std::atomic<std::uint64_t> counter_{0};
};

} // namespace gostly::serve
