#include "serve/metrics.hpp"

#include <cstdio>

namespace gostly::serve {

std::string_view label(MatchType type) noexcept {
  switch (type) {
  case MatchType::session_verbatim: return "session_verbatim";
  case MatchType::exact: return "exact";
  case MatchType::normalized: return "normalized";
  case MatchType::resource_store: return "resource_store";
  case MatchType::resource_transition: return "resource_transition";
  case MatchType::smart_swap: return "smart_swap";
  case MatchType::miss: return "miss";
  case MatchType::learn: return "learn";
  case MatchType::transitioning: return "transitioning";
  case MatchType::passthrough: return "passthrough";
  case MatchType::chaos: return "chaos";
  case MatchType::count_: break;
  }
  return "unknown";
}

std::string_view label(IoOperation operation) noexcept {
  switch (operation) {
  case IoOperation::traffic_append: return "traffic_append";
  case IoOperation::record_output: return "record_output";
  case IoOperation::library_load: return "library_load";
  case IoOperation::mode_file: return "mode_file";
  case IoOperation::count_: break;
  }
  return "unknown";
}

Metrics::Metrics() : started_(std::chrono::system_clock::now()) {}

void Metrics::count_request(MatchType type) noexcept {
  requests_[static_cast<std::size_t>(type)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_io_error(IoOperation operation) noexcept {
  io_errors_[static_cast<std::size_t>(operation)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::observe_latency(std::chrono::steady_clock::duration elapsed) noexcept {
  double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t i = 0;
  while (i < kBucketsSeconds.size() && seconds > kBucketsSeconds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(static_cast<std::uint64_t>(std::chrono::nanoseconds(elapsed).count()),
                            std::memory_order_relaxed);
}

void Metrics::set_session_buffer_source(std::function<SessionBufferStats()> source) {
  session_buffer_ = std::move(source);
}

std::uint64_t Metrics::requests(MatchType type) const noexcept {
  return requests_[static_cast<std::size_t>(type)].load(std::memory_order_relaxed);
}

std::uint64_t Metrics::io_errors(IoOperation operation) const noexcept {
  return io_errors_[static_cast<std::size_t>(operation)].load(std::memory_order_relaxed);
}

std::string Metrics::render(const std::vector<std::pair<std::string, std::uint64_t>>& library_sizes) const {
  std::string out;
  auto line = [&](std::string_view text) {
    out.append(text);
    out.push_back('\n');
  };
  line("# HELP ghost_requests_total Requests answered by the proxy, by how they were answered.");
  line("# TYPE ghost_requests_total counter");
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    auto n = requests_[i].load(std::memory_order_relaxed);
    total += n;
    line("ghost_requests_total{match_type=\"" + std::string(label(static_cast<MatchType>(i))) + "\"} " + std::to_string(n));
  }
  line("# HELP ghost_proxy_requests_total Requests answered by the proxy.");
  line("# TYPE ghost_proxy_requests_total counter");
  line("ghost_proxy_requests_total " + std::to_string(total));
  line("# HELP ghost_mock_library_size Interactions in the loaded mock library, by service.");
  line("# TYPE ghost_mock_library_size gauge");
  for (const auto& [service, size] : library_sizes)
    line("ghost_mock_library_size{service=\"" + service + "\"} " + std::to_string(size));
  line("# HELP ghost_io_errors_total Failed disk operations (requests are still answered).");
  line("# TYPE ghost_io_errors_total counter");
  for (std::size_t i = 0; i < io_errors_.size(); ++i)
    line("ghost_io_errors_total{operation=\"" + std::string(label(static_cast<IoOperation>(i))) + "\"} " +
         std::to_string(io_errors_[i].load(std::memory_order_relaxed)));
  auto session = session_buffer_ ? session_buffer_() : SessionBufferStats{};
  line("# HELP gostly_session_buffer_bytes Bytes held by the LEARN session buffer (session-verbatim tier), all services.");
  line("# TYPE gostly_session_buffer_bytes gauge");
  line("gostly_session_buffer_bytes " + std::to_string(session.bytes));
  line("# HELP gostly_session_buffer_max_bytes The session buffer's budget (--session-buffer-max; 0 = tier off).");
  line("# TYPE gostly_session_buffer_max_bytes gauge");
  line("gostly_session_buffer_max_bytes " + std::to_string(session.max_bytes));
  line("# HELP gostly_session_buffer_evictions_total Session keys evicted, oldest first, to stay within the budget.");
  line("# TYPE gostly_session_buffer_evictions_total counter");
  line("gostly_session_buffer_evictions_total " + std::to_string(session.evictions));
  auto up = upstream();
  line("# HELP gostly_upstream_connections_total Connections opened (or tried) to upstreams; 0 for a hermetic MOCK run.");
  line("# TYPE gostly_upstream_connections_total counter");
  line("gostly_upstream_connections_total " + std::to_string(up.connections));
  line("# HELP gostly_upstream_dns_resolutions_total Upstream host names looked up (an IP address needs none).");
  line("# TYPE gostly_upstream_dns_resolutions_total counter");
  line("gostly_upstream_dns_resolutions_total " + std::to_string(up.resolutions));
  line("# HELP gostly_upstream_tls_handshakes_total TLS handshakes gostly started with https:// upstreams.");
  line("# TYPE gostly_upstream_tls_handshakes_total counter");
  line("gostly_upstream_tls_handshakes_total " + std::to_string(up.tls_handshakes));
  if (leaf_cache_size_) {
    line("# HELP gostly_tls_handshakes_total Client TLS handshakes gostly terminated (CONNECT interception, --tls-listen).");
    line("# TYPE gostly_tls_handshakes_total counter");
    line("gostly_tls_handshakes_total{result=\"ok\"} " + std::to_string(tls_handshakes(true)));
    line("gostly_tls_handshakes_total{result=\"failed\"} " + std::to_string(tls_handshakes(false)));
    line("# HELP gostly_tls_leaf_cache_size Leaf certificates minted from the CA and cached, one per host name.");
    line("# TYPE gostly_tls_leaf_cache_size gauge");
    line("gostly_tls_leaf_cache_size " + std::to_string(leaf_cache_size_()));
  }
  line("# HELP ghost_request_duration_seconds Time from a complete request to its reply.");
  line("# TYPE ghost_request_duration_seconds histogram");
  std::uint64_t cumulative = 0;
  char le[32];
  for (std::size_t i = 0; i < kBucketsSeconds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::snprintf(le, sizeof le, "%g", kBucketsSeconds[i]);
    line("ghost_request_duration_seconds_bucket{le=\"" + std::string(le) + "\"} " + std::to_string(cumulative));
  }
  cumulative += buckets_.back().load(std::memory_order_relaxed);
  line("ghost_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(cumulative));
  char sum[48];
  std::snprintf(sum, sizeof sum, "%.6f", static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  line("ghost_request_duration_seconds_sum " + std::string(sum));
  line("ghost_request_duration_seconds_count " + std::to_string(latency_count_.load(std::memory_order_relaxed)));
  return out;
}

void Metrics::set_upstream_source(std::function<UpstreamStats()> source) { upstream_ = std::move(source); }
UpstreamStats Metrics::upstream() const { return upstream_ ? upstream_() : UpstreamStats{}; }

void Metrics::count_tls_handshake(bool ok) noexcept { tls_handshakes_[ok ? 1 : 0].fetch_add(1, std::memory_order_relaxed); }
void Metrics::set_leaf_cache_source(std::function<std::uint64_t()> source) { leaf_cache_size_ = std::move(source); }
std::uint64_t Metrics::tls_handshakes(bool ok) const noexcept { return tls_handshakes_[ok ? 1 : 0].load(std::memory_order_relaxed); }

} // namespace gostly::serve
