#include "serve/metrics.hpp"

#include <catch2/catch.hpp>

using namespace gostly::serve;

TEST_CASE("serve::Metrics: counters and the histogram render as Prometheus text", "[serve]") {
  Metrics metrics;
  metrics.count_request(MatchType::exact);
  metrics.count_request(MatchType::exact);
  metrics.count_request(MatchType::miss);
  metrics.count_io_error(IoOperation::traffic_append);
  metrics.observe_latency(std::chrono::microseconds(50));
  metrics.observe_latency(std::chrono::seconds(30));
  auto text = metrics.render({{"default", 7}});
  CHECK(text.find("ghost_requests_total{match_type=\"exact\"} 2\n") != std::string::npos);
  CHECK(text.find("ghost_requests_total{match_type=\"miss\"} 1\n") != std::string::npos);
  CHECK(text.find("ghost_requests_total{match_type=\"learn\"} 0\n") != std::string::npos);
  CHECK(text.find("ghost_proxy_requests_total 3\n") != std::string::npos);
  CHECK(text.find("ghost_mock_library_size{service=\"default\"} 7\n") != std::string::npos);
  CHECK(text.find("ghost_io_errors_total{operation=\"traffic_append\"} 1\n") != std::string::npos);
  CHECK(text.find("ghost_request_duration_seconds_bucket{le=\"0.0001\"} 1\n") != std::string::npos);
  CHECK(text.find("ghost_request_duration_seconds_bucket{le=\"5\"} 1\n") != std::string::npos);
  CHECK(text.find("ghost_request_duration_seconds_bucket{le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(text.find("ghost_request_duration_seconds_count 2\n") != std::string::npos);
}

TEST_CASE("serve::Metrics: the session buffer's bytes, budget and evictions render as Prometheus text", "[serve]") {
  Metrics metrics;
  auto idle = metrics.render({});
  CHECK(idle.find("# TYPE gostly_session_buffer_bytes gauge\ngostly_session_buffer_bytes 0\n") != std::string::npos);
  CHECK(idle.find("# TYPE gostly_session_buffer_evictions_total counter\ngostly_session_buffer_evictions_total 0\n") !=
        std::string::npos);

  metrics.set_session_buffer_source([] { return SessionBufferStats{12345, 67108864, 42}; });
  auto text = metrics.render({});
  CHECK(text.find("gostly_session_buffer_bytes 12345\n") != std::string::npos);
  CHECK(text.find("# TYPE gostly_session_buffer_max_bytes gauge\ngostly_session_buffer_max_bytes 67108864\n") !=
        std::string::npos);
  CHECK(text.find("gostly_session_buffer_evictions_total 42\n") != std::string::npos);
}
