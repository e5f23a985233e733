#pragma once
// Prometheus counters for gostly-serve. Every counter is a relaxed atomic bumped on the request
// path without a lock; render() reads them for GET /metrics.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gostly::serve {

/// The `match_type` label values of ghost_requests_total, in DESIGN.md order.
enum class MatchType { session_verbatim, exact, normalized, resource_store, resource_transition, smart_swap, miss,
                       learn, transitioning, passthrough, chaos, count_ };
std::string_view label(MatchType type) noexcept;

/// The `operation` label values of ghost_io_errors_total.
enum class IoOperation { traffic_append, record_output, library_load, mode_file, count_ };
std::string_view label(IoOperation operation) noexcept;

/// The LEARN session buffer (match::SessionBudget) as /metrics shows it.
struct SessionBufferStats {
  std::uint64_t bytes = 0;
  std::uint64_t max_bytes = 0;
  std::uint64_t evictions = 0;
};

/// What the proxy did to reach upstreams (http::UpstreamCounters): gostly_upstream_*_total.
struct UpstreamStats {
  std::uint64_t connections = 0;
  std::uint64_t resolutions = 0;
  std::uint64_t tls_handshakes = 0;
};

class Metrics {
public:
  Metrics();
  void count_request(MatchType type) noexcept;
  void count_io_error(IoOperation operation) noexcept;
  /// Adds one observation to the request latency histogram.
  void observe_latency(std::chrono::steady_clock::duration elapsed) noexcept;

  /// One client TLS handshake gostly terminated (gostly_tls_handshakes_total{result}).
  void count_tls_handshake(bool ok) noexcept;
  /// Where render() reads the number of cached leaf certificates (none: the TLS metrics are not
  /// shown, interception being off). Set once, before the control API serves.
  void set_leaf_cache_source(std::function<std::uint64_t()> source);
  std::uint64_t tls_handshakes(bool ok) const noexcept;

  /// Where render() reads the session buffer's figures (zeros without one). Set once, before
  /// the control API serves.
  void set_session_buffer_source(std::function<SessionBufferStats()> source);

  /// Where render() reads the upstream counters (zeros without one). Set once, before serving.
  void set_upstream_source(std::function<UpstreamStats()> source);
  UpstreamStats upstream() const;

  std::uint64_t requests(MatchType type) const noexcept;
  std::uint64_t io_errors(IoOperation operation) const noexcept;

  /// Prometheus text exposition (0.0.4). `library_sizes` lists (service, size) for
  /// ghost_mock_library_size.
  std::string render(const std::vector<std::pair<std::string, std::uint64_t>>& library_sizes) const;

  static constexpr std::array<double, 14> kBucketsSeconds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                              0.025,  0.05,    0.1,    0.25,  0.5,    1,     5};

private:
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(MatchType::count_)> requests_{};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(IoOperation::count_)> io_errors_{};
  std::array<std::atomic<std::uint64_t>, kBucketsSeconds.size() + 1> buckets_{}; // last = +Inf only
  std::atomic<std::uint64_t> latency_count_{0};
  std::atomic<std::uint64_t> latency_sum_ns_{0};
  std::chrono::system_clock::time_point started_;
  std::function<SessionBufferStats()> session_buffer_;
  std::array<std::atomic<std::uint64_t>, 2> tls_handshakes_{}; // [0] failed, [1] ok
  std::function<std::uint64_t()> leaf_cache_size_;
  std::function<UpstreamStats()> upstream_;
};

} // namespace gostly::serve
