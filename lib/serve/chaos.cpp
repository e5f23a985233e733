// Chaos configs: parsing, checking and the seeded decision function (see chaos.hpp).
//
// Why a hash of (seed, n) and not a seeded PRNG: the decision for request n depends on nothing
// but its number, so concurrent requests need no lock (one atomic increment), and a run that
// sends the same requests in the same order sees the same decisions however its threads were
// scheduled. splitmix64 is a strong enough mixer for a test fault injector and is the same on
// every platform (no std:: distribution, whose output the standard leaves to the library).
#include "serve/chaos.hpp"

#include "util/error.hpp"
#include "util/limits.hpp"

#include <random>

namespace gostly::serve {

namespace {

using nlohmann::json;

constexpr std::string_view kFields = "latency_ms, error_rate, error_status, drop_rate or seed";

std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A whole number >= 0 (parsed JSON stores those as unsigned, built JSON may hold them signed).
std::optional<std::uint64_t> whole(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(value.get<std::int64_t>());
  return std::nullopt;
}

std::uint32_t latency_value(const json& value, const std::string& field) {
  auto ms = whole(value);
  if (!ms) throw ChaosError{field, "expected whole milliseconds (0-" + std::to_string(kMaxChaosLatencyMs) + "), got " + value.dump()};
  if (*ms > kMaxChaosLatencyMs)
    throw ChaosError{field, std::to_string(*ms) + " ms is past the limit of " + std::to_string(kMaxChaosLatencyMs) + " ms"};
  return static_cast<std::uint32_t>(*ms);
}

double rate_value(const json& value, const std::string& field) {
  if (!value.is_number()) throw ChaosError{field, "expected a number from 0 to 1, got " + std::string(value.type_name())};
  double rate = value.get<double>();
  if (!(rate >= 0 && rate <= 1)) throw ChaosError{field, "expected a number from 0 to 1, got " + value.dump()};
  return rate;
}

} // namespace

ChaosSpec parse_chaos(const json& value) {
  if (!value.is_object())
    throw ChaosError{"chaos", "expected an object with " + std::string(kFields) + " (or null to clear), got " + value.type_name()};
  ChaosSpec spec;
  for (const auto& [key, field] : value.items()) {
    const std::string name = "chaos." + key;
    if (field.is_null()) continue; // absent
    if (key == "latency_ms") {
      if (field.is_array()) {
        if (field.size() != 2) throw ChaosError{name, "expected [min, max] in milliseconds"};
        spec.latency_min_ms = latency_value(field[0], name + "[0]");
        spec.latency_max_ms = latency_value(field[1], name + "[1]");
        if (spec.latency_min_ms > spec.latency_max_ms)
          throw ChaosError{name, "min " + std::to_string(spec.latency_min_ms) + " is more than max " +
                                     std::to_string(spec.latency_max_ms)};
      } else {
        spec.latency_min_ms = spec.latency_max_ms = latency_value(field, name);
      }
    } else if (key == "error_rate") {
      spec.error_rate = rate_value(field, name);
    } else if (key == "drop_rate") {
      spec.drop_rate = rate_value(field, name);
    } else if (key == "error_status") {
      // 1xx are interim answers: a client would wait for the final one forever.
      auto status = whole(field);
      if (!status || *status < 200 || *status > 599)
        throw ChaosError{name, "expected an HTTP status from 200 to 599, got " + field.dump()};
      spec.error_status = static_cast<int>(*status);
    } else if (key == "seed") {
      spec.seed = whole(field);
      if (!spec.seed) throw ChaosError{name, "expected a whole number from 0 to 2^64-1, got " + field.dump()};
    } else {
      throw ChaosError{name, "unknown field (expected " + std::string(kFields) + ")"};
    }
  }
  if (spec.error_rate + spec.drop_rate > 1 + 1e-9)
    throw ChaosError{"chaos.error_rate", "error_rate + drop_rate is more than 1"};
  return spec;
}

json to_json(const ChaosSpec& spec) {
  json out{{"latency_ms", {spec.latency_min_ms, spec.latency_max_ms}},
           {"error_rate", spec.error_rate},
           {"error_status", spec.error_status},
           {"drop_rate", spec.drop_rate}};
  out["seed"] = spec.seed ? json(*spec.seed) : json();
  return out;
}

std::pair<std::string, ChaosSpec> parse_chaos_option(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw UsageError("--chaos '" + std::string(text) + "': expected SERVICE=SPEC (SPEC a JSON object or key=value,...)");
  std::string service(text.substr(0, eq));
  std::string_view spec_text = text.substr(eq + 1);
  const std::string where = "--chaos " + service;
  json value;
  if (!spec_text.empty() && spec_text.front() == '{') {
    try {
      value = util::parse_json(spec_text);
    } catch (const std::exception& e) {
      throw UsageError(where + ": not valid JSON: " + e.what());
    }
  } else {
    // The short form: the same keys, comma-separated; latency_ms as MIN-MAX or one value.
    value = json::object();
    std::size_t start = 0;
    while (start <= spec_text.size()) {
      auto end = spec_text.find(',', start);
      if (end == std::string_view::npos) end = spec_text.size();
      std::string_view item = spec_text.substr(start, end - start);
      start = end + 1;
      if (item.empty()) {
        if (end == spec_text.size()) break;
        continue;
      }
      auto sep = item.find('=');
      if (sep == std::string_view::npos) throw UsageError(where + ": '" + std::string(item) + "': expected KEY=VALUE");
      std::string key(item.substr(0, sep));
      std::string_view raw = item.substr(sep + 1);
      auto number = [&](std::string_view s) {
        try {
          json parsed = util::parse_json(s);
          if (parsed.is_number()) return parsed;
        } catch (const std::exception&) {
        }
        throw UsageError(where + ": chaos." + key + ": '" + std::string(s) + "' is not a number");
      };
      auto dash = raw.find('-', 1);
      if (key == "latency_ms" && dash != std::string_view::npos)
        value[key] = json::array({number(raw.substr(0, dash)), number(raw.substr(dash + 1))});
      else
        value[key] = number(raw);
    }
  }
  try {
    return {service, parse_chaos(value)};
  } catch (const ChaosError& e) {
    throw UsageError(where + ": " + e.message());
  }
}

ChaosDecision decide(const ChaosSpec& spec, std::uint64_t seed, std::uint64_t n) noexcept {
  ChaosDecision out;
  std::uint64_t h = mix(seed ^ mix(n));
  double u = static_cast<double>(h >> 11) * 0x1.0p-53; // uniform in [0, 1)
  if (u < spec.drop_rate) out.action = ChaosAction::drop;
  else if (u < spec.drop_rate + spec.error_rate) out.action = ChaosAction::error;
  std::uint32_t span = spec.latency_max_ms - spec.latency_min_ms;
  std::uint32_t extra = span ? static_cast<std::uint32_t>(mix(h) % (std::uint64_t{span} + 1)) : 0;
  out.delay = std::chrono::milliseconds(spec.latency_min_ms + extra);
  return out;
}

Chaos::Chaos(ChaosSpec spec) : spec_(std::move(spec)), seed_(spec_.seed ? *spec_.seed : [] {
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device();
}()) {}

} // namespace gostly::serve
