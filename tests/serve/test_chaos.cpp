#include "serve/chaos.hpp"

#include "util/error.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace gostly;
using nlohmann::json;

namespace {
std::string chaos_error(const json& value) {
  try {
    serve::parse_chaos(value);
  } catch (const serve::ChaosError& e) {
    return e.message();
  }
  return "";
}
} // namespace

TEST_CASE("serve::parse_chaos: the JSON form and its defaults", "[serve][chaos]") {
  auto spec = serve::parse_chaos(json::parse(
      R"({"latency_ms":[10,20],"error_rate":0.05,"error_status":500,"drop_rate":0.01,"seed":42})"));
  CHECK(spec.latency_min_ms == 10);
  CHECK(spec.latency_max_ms == 20);
  CHECK(spec.error_rate == 0.05);
  CHECK(spec.error_status == 500);
  CHECK(spec.drop_rate == 0.01);
  CHECK(spec.seed == std::optional<std::uint64_t>(42));
  auto empty = serve::parse_chaos(json::object());
  CHECK(empty == serve::ChaosSpec{});
  CHECK(empty.error_status == 503);
  auto fixed = serve::parse_chaos(json{{"latency_ms", 7}});
  CHECK(fixed.latency_min_ms == 7);
  CHECK(fixed.latency_max_ms == 7);
  // What GET shows parses back to the same config.
  CHECK(serve::parse_chaos(serve::to_json(spec)) == spec);
  CHECK(serve::parse_chaos(serve::to_json(empty)) == empty);
}

TEST_CASE("serve::parse_chaos: bad values name their field", "[serve][chaos]") {
  CHECK(chaos_error(json::parse(R"({"error_rate":1.5})")).starts_with("chaos.error_rate:"));
  CHECK(chaos_error(json::parse(R"({"drop_rate":-0.1})")).starts_with("chaos.drop_rate:"));
  CHECK(chaos_error(json::parse(R"({"drop_rate":"0.1"})")).starts_with("chaos.drop_rate:"));
  CHECK(chaos_error(json::parse(R"({"error_rate":0.6,"drop_rate":0.6})")).starts_with("chaos.error_rate:"));
  CHECK(chaos_error(json::parse(R"({"error_status":99})")).starts_with("chaos.error_status:"));
  CHECK(chaos_error(json::parse(R"({"error_status":600})")).starts_with("chaos.error_status:"));
  CHECK(chaos_error(json::parse(R"({"error_status":101})")).starts_with("chaos.error_status:"));
  CHECK(chaos_error(json::parse(R"({"latency_ms":[300,100]})")).starts_with("chaos.latency_ms:"));
  CHECK(chaos_error(json::parse(R"({"latency_ms":[0,60001]})")).starts_with("chaos.latency_ms[1]:"));
  CHECK(chaos_error(json::parse(R"({"latency_ms":[-1,5]})")).starts_with("chaos.latency_ms[0]:"));
  CHECK(chaos_error(json::parse(R"({"latency_ms":[1,2,3]})")).starts_with("chaos.latency_ms:"));
  CHECK(chaos_error(json::parse(R"({"latency_ms":1.5})")).starts_with("chaos.latency_ms:"));
  CHECK(chaos_error(json::parse(R"({"seed":-3})")).starts_with("chaos.seed:"));
  CHECK(chaos_error(json::parse(R"({"jitter":3})")).starts_with("chaos.jitter: unknown field"));
  CHECK(chaos_error(json::parse(R"([1,2])")).starts_with("chaos:"));
}

TEST_CASE("serve::parse_chaos_option: JSON and key=value forms of --chaos", "[serve][chaos]") {
  auto [service, spec] = serve::parse_chaos_option("api.example.com=latency_ms=100-300,error_rate=0.05,seed=7");
  CHECK(service == "api.example.com");
  CHECK(spec.latency_min_ms == 100);
  CHECK(spec.latency_max_ms == 300);
  CHECK(spec.error_rate == 0.05);
  CHECK(spec.seed == std::optional<std::uint64_t>(7));
  auto [json_service, json_spec] = serve::parse_chaos_option(R"(default={"drop_rate":0.5,"error_status":502})");
  CHECK(json_service == "default");
  CHECK(json_spec.drop_rate == 0.5);
  CHECK(json_spec.error_status == 502);
  CHECK(serve::parse_chaos_option("x=latency_ms=25").second.latency_max_ms == 25);
  CHECK_THROWS_AS(serve::parse_chaos_option("no-spec"), UsageError);
  CHECK_THROWS_WITH(serve::parse_chaos_option("x=error_rate=2"), Catch::Contains("chaos.error_rate"));
  CHECK_THROWS_WITH(serve::parse_chaos_option("x=error_rate=lots"), Catch::Contains("chaos.error_rate"));
  CHECK_THROWS_WITH(serve::parse_chaos_option("x=speed=3"), Catch::Contains("unknown field"));
  CHECK_THROWS_WITH(serve::parse_chaos_option("x={bad json"), Catch::Contains("--chaos x"));
}

TEST_CASE("serve::decide: a seed gives the same sequence, rates hold, latency stays in range", "[serve][chaos]") {
  serve::ChaosSpec spec;
  spec.latency_min_ms = 5;
  spec.latency_max_ms = 15;
  spec.error_rate = 0.2;
  spec.drop_rate = 0.1;
  spec.seed = 42;
  serve::Chaos first(spec), second(spec);
  std::size_t errors = 0, drops = 0, differ = 0;
  constexpr std::size_t kRuns = 20000;
  for (std::size_t n = 0; n < kRuns; ++n) {
    auto a = first.next(), b = second.next();
    REQUIRE(a.action == b.action);
    REQUIRE(a.delay == b.delay);
    REQUIRE(a.delay.count() >= 5);
    REQUIRE(a.delay.count() <= 15);
    errors += a.action == serve::ChaosAction::error;
    drops += a.action == serve::ChaosAction::drop;
    auto other = serve::decide(spec, 43, n);
    differ += other.action != a.action || other.delay != a.delay;
  }
  CHECK(errors > kRuns * 0.18);
  CHECK(errors < kRuns * 0.22);
  CHECK(drops > kRuns * 0.08);
  CHECK(drops < kRuns * 0.12);
  CHECK(differ > kRuns / 2); // another seed, another sequence

  serve::ChaosSpec always;
  always.error_rate = 1;
  serve::ChaosSpec never;
  for (std::uint64_t n = 0; n < 1000; ++n) {
    CHECK(serve::decide(always, n * 7919, n).action == serve::ChaosAction::error);
    CHECK(serve::decide(never, n * 7919, n).action == serve::ChaosAction::pass);
    CHECK(serve::decide(never, n * 7919, n).delay.count() == 0);
  }
}
