#include "drift/diff.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace gostly::drift {
namespace {

constexpr double kStableFormatShare = 0.9;
// One-sided z of the two-proportion test for a rate shift: 1.2816 is the 10 % level, lenient
// enough that 5 % -> 10 % over 100 + 100 responses (z = 1.34) is caught; the rate must also
// have doubled or halved, and the side where it rose must show it at least kMinRisenCount times.
constexpr double kRateShiftZ = 1.2816;
constexpr std::uint64_t kMinRisenCount = 3;
// "Could the other side have shown it?": an absence (or a new type, or a first fraction) counts
// only when the other side's sample makes seeing nothing less likely than 1 %.
constexpr double kChanceLevel = 0.01;
// A type the baseline already showed in at least this share of its values is not new.
constexpr double kMixedTypeShare = 0.1;
// Cardinality is compared at the smaller side's sample size, and only from this many.
constexpr double kMinCardinalitySamples = 5;

std::string parent_of(const std::string& path) {
  if (path.size() > 2 && path.compare(path.size() - 2, 2, "[]") == 0) return path.substr(0, path.size() - 2);
  auto dot = path.rfind('.');
  return dot == std::string::npos ? std::string() : path.substr(0, dot);
}

// How often the parent of `path` was an object, i.e. how often `path` could have appeared.
std::uint64_t parent_objects(const RouteFingerprint& route, const std::string& path) {
  std::string parent = parent_of(path);
  if (parent.empty()) return route.object_bodies();
  auto it = route.fields.find(parent);
  if (it == route.fields.end()) return 0;
  return it->second.types[static_cast<std::size_t>(JsonType::object)];
}

double share(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

double round3(double value) { return std::round(value * 1000.0) / 1000.0; }

// A rate moved when it at least doubled or halved and a two-proportion z-test over the two
// sample sizes says the shift is unlikely to be sampling noise.
bool rate_moved(std::uint64_t k1, std::uint64_t n1, std::uint64_t k2, std::uint64_t n2) {
  if (n1 == 0 || n2 == 0) return false;
  double p1 = share(k1, n1), p2 = share(k2, n2);
  if (!(p2 >= 2 * p1 || p2 * 2 <= p1)) return false;
  if ((p2 > p1 ? k2 : k1) < kMinRisenCount) return false;
  double pooled = share(k1 + k2, n1 + n2);
  double se = std::sqrt(pooled * (1 - pooled) * (1.0 / static_cast<double>(n1) + 1.0 / static_cast<double>(n2)));
  if (se <= 0) return false;
  return std::abs(p2 - p1) / se >= kRateShiftZ;
}

// Probability of never seeing something of rate `rate` in `n` independent tries.
double chance_of_none(double rate, double n) { return std::pow(1 - std::clamp(rate, 0.0, 1.0), n); }

// Expected distinct values in `m` draws from a side that showed `distinct` values in `n`:
// the domain size D solves distinct = D (1 - (1 - 1/D)^n) (uniform draws); a side on which no
// value repeated has no visible bound, so it shows m of m.
double projected_distinct(double distinct, double n, double m) {
  if (distinct >= n || n <= 1) return m;
  auto seen = [](double domain, double draws) { return domain * (1 - std::pow(1 - 1 / domain, draws)); };
  double lo = std::max(1.0, distinct), hi = 1e12;
  for (int i = 0; i < 80 && hi / lo > 1.0001; ++i) {
    double mid = std::sqrt(lo * hi);
    (seen(mid, n) < distinct ? lo : hi) = mid;
  }
  return seen(lo, m);
}

std::string describe_type(const FieldStats& stats, JsonType type) {
  if ((type == JsonType::object || type == JsonType::array) && !stats.shapes.empty()) return stats.modal_shape();
  return std::string(to_string(type));
}

class RouteComparison {
public:
  RouteComparison(const RouteFingerprint& baseline, const RouteFingerprint& current, const DiffOptions& options)
      : b_(baseline), c_(current), options_(options) {}

  std::vector<Signal> run() {
    body_kind();
    if (b_.object_bodies() > 0 && c_.object_bodies() > 0) fields();
    if (b_.samples >= options_.min_behavioral_samples && c_.samples >= options_.min_behavioral_samples) {
      statuses();
      empty_rate();
    }
    return std::move(signals_);
  }

private:
  void add(std::string kind, std::string field, Severity severity, nlohmann::json before, nlohmann::json after) {
    signals_.push_back(Signal{std::move(kind), std::move(field), severity, std::move(before), std::move(after)});
  }

  void body_kind() {
    auto before = b_.modal_body_kind();
    auto after = c_.modal_body_kind();
    if (!before || !after || *before == *after) return;
    bool was_object = *before == BodyKind::object;
    add("body_type_changed", "", was_object ? Severity::major : Severity::minor, to_string(*before), to_string(*after));
  }

  void fields() {
    for (const auto& [path, before] : b_.fields) {
      auto it = c_.fields.find(path);
      if (it == c_.fields.end()) {
        // Removed only if the current sample should have shown it: a field present in half the
        // baseline's objects is absent from 3 current ones one time in 8, which is no removal.
        double rate = share(before.present, parent_objects(b_, path));
        auto chances = static_cast<double>(parent_objects(c_, path));
        if (chances > 0 && chance_of_none(rate, chances) < kChanceLevel)
          add("field_removed", path, Severity::major, describe_present(before, path), nullptr);
        continue;
      }
      compare_field(path, before, it->second);
    }
    for (const auto& [path, after] : c_.fields) {
      if (b_.fields.count(path) != 0) continue;
      double rate = share(after.present, parent_objects(c_, path));
      auto chances = static_cast<double>(parent_objects(b_, path));
      if (chances > 0 && chance_of_none(rate, chances) < kChanceLevel) {
        auto type = after.dominant_type();
        add("field_added", path, Severity::minor, nullptr, type ? describe_type(after, *type) : "null");
      }
    }
  }

  nlohmann::json describe_present(const FieldStats& stats, const std::string&) {
    auto type = stats.dominant_type();
    return type ? describe_type(stats, *type) : "null";
  }

  void compare_field(const std::string& path, const FieldStats& before, const FieldStats& after) {
    auto tb = before.dominant_type();
    auto tc = after.dominant_type();
    if (!tb || !tc) return; // only ever null on one side: nothing to compare (null-tolerant)
    bool numeric = (*tb == JsonType::integer || *tb == JsonType::number) &&
                   (*tc == JsonType::integer || *tc == JsonType::number);
    bool required = before.present >= parent_objects(b_, path);
    auto severity = required ? Severity::major : Severity::minor;
    if (*tb != *tc && !numeric) {
      // A field that is genuinely of two types flips its dominant one when the sample ratio
      // shifts: only a type the baseline (almost) never showed is a change.
      if (share(type_count(before, *tc), before.non_null()) >= kMixedTypeShare) return;
      add("type_changed", path, severity, describe_type(before, *tb), describe_type(after, *tc));
      return;
    }
    if (numeric) {
      // integer -> fractional (10 -> 10.5): a consumer parsing integers breaks. Only when the
      // baseline had enough integers that it would have shown the current share of fractions.
      auto b_int = before.types[static_cast<std::size_t>(JsonType::integer)];
      auto b_frac = before.types[static_cast<std::size_t>(JsonType::number)];
      auto c_int = after.types[static_cast<std::size_t>(JsonType::integer)];
      auto c_frac = after.types[static_cast<std::size_t>(JsonType::number)];
      if (b_frac == 0 && b_int > 0 && c_frac > 0 &&
          chance_of_none(share(c_frac, c_int + c_frac), static_cast<double>(b_int)) < kChanceLevel)
        add("type_changed", path, severity, "integer", "number");
    }
    if (*tb == JsonType::string) format(path, before, after);
    cardinality(path, before, after);
  }

  static std::uint64_t type_count(const FieldStats& stats, JsonType type) {
    if (type == JsonType::number) // dominant_type folds integers into number
      return stats.types[static_cast<std::size_t>(JsonType::number)] + stats.types[static_cast<std::size_t>(JsonType::integer)];
    return stats.types[static_cast<std::size_t>(type)];
  }

  void format(const std::string& path, const FieldStats& before, const FieldStats& after) {
    std::size_t modal = 0;
    for (std::size_t i = 1; i < kStringFormats; ++i)
      if (before.formats[i] > before.formats[modal]) modal = i;
    if (static_cast<StringFormat>(modal) == StringFormat::text) return;
    if (share(before.formats[modal], before.string_values()) < kStableFormatShare) return; // mixed: opaque
    if (after.string_values() == 0) return;
    if (share(after.formats[modal], after.string_values()) >= kStableFormatShare) return;
    std::size_t now = 0;
    for (std::size_t i = 1; i < kStringFormats; ++i)
      if (after.formats[i] > after.formats[now]) now = i;
    bool stable_now = share(after.formats[now], after.string_values()) >= kStableFormatShare;
    add("format_changed", path, Severity::major, to_string(static_cast<StringFormat>(modal)),
        stable_now ? std::string(to_string(static_cast<StringFormat>(now))) : std::string("mixed"));
  }

  // Cardinality fair to the two sample sizes: both sides' distinct counts are projected to the
  // smaller side's sample size and bucketed there, so a 15-value enum over 20 calls and over 200
  // looks the same and five fresh ids are as unbounded as a million. When the field's value is
  // the request's on both sides (asking the same URI again gave the same value: the same id
  // fetched ten times), a side has as many observations as distinct (URI, value) pairs, not
  // calls. Time-valued fields are left out: how often a timestamp repeats depends on how fast
  // the recording ran (a burst), not on the upstream.
  void cardinality(const std::string& path, const FieldStats& before, const FieldStats& after) {
    if (before.scalar_values < 2 || after.scalar_values < 2) return;
    if (time_valued(before) || time_valued(after)) return;
    bool per_request = request_determined(b_, before) && request_determined(c_, after);
    double nb = static_cast<double>(per_request ? std::min(before.pairs.estimate(), before.scalar_values) : before.scalar_values);
    double nc = static_cast<double>(per_request ? std::min(after.pairs.estimate(), after.scalar_values) : after.scalar_values);
    double m = std::floor(std::min(nb, nc));
    if (m < kMinCardinalitySamples) return;
    auto at_m = [m](const FieldStats& stats, double n) {
      double distinct = static_cast<double>(std::min<std::uint64_t>(stats.distinct.estimate(), stats.scalar_values));
      return bucket_at(std::llround(projected_distinct(std::min(distinct, n), n, m)), m);
    };
    auto bb = at_m(before, nb);
    auto bc = at_m(after, nc);
    int moved = std::abs(static_cast<int>(bb) - static_cast<int>(bc));
    if (moved == 0) return;
    add("cardinality_changed", path, moved >= 2 ? Severity::major : Severity::minor, to_string(bb), to_string(bc));
  }

  // No more (URI, value) pairs than URIs (with the sketch's slack): each request had one value.
  static bool request_determined(const RouteFingerprint& route, const FieldStats& stats) {
    auto uris = static_cast<double>(route.requests.estimate());
    return static_cast<double>(stats.pairs.estimate()) <= uris * 1.1 + 1;
  }

  // The bucket of `distinct` values in `m` samples, with "never repeated" checked before the
  // small-count buckets so that few samples of fresh values stay unbounded.
  static Cardinality bucket_at(long long distinct, double m) {
    if (distinct <= 1) return Cardinality::singleton;
    if (static_cast<double>(distinct) * 2 >= m) return Cardinality::unbounded;
    if (distinct <= 10) return Cardinality::low;
    if (distinct <= 1000) return Cardinality::medium;
    return Cardinality::high;
  }

  static bool time_valued(const FieldStats& stats) {
    std::uint64_t times = 0;
    for (std::size_t i = 0; i < kStringFormats; ++i)
      if (is_time_format(static_cast<StringFormat>(i))) times += stats.formats[i];
    return stats.string_values() > 0 && share(times, stats.string_values()) >= 0.5;
  }

  nlohmann::json families(const RouteFingerprint& route) {
    nlohmann::json out = nlohmann::json::object();
    for (int family = 1; family <= 5; ++family) {
      double rate = route.family_rate(family);
      if (rate > 0) out[std::to_string(family) + "xx"] = round3(rate);
    }
    return out;
  }

  void statuses() {
    auto before = b_.modal_status();
    auto after = c_.modal_status();
    if (before && after && *before != *after) {
      bool crossed = *before / 100 != *after / 100;
      add("status_changed", "", crossed ? Severity::major : Severity::minor, *before, *after);
      return;
    }
    bool moved = false;
    bool more_5xx = false;
    for (int family = 1; family <= 5; ++family) {
      auto kb = family_count(b_, family);
      auto kc = family_count(c_, family);
      if (rate_moved(kb, b_.samples, kc, c_.samples)) {
        moved = true;
        if (family == 5 && share(kc, c_.samples) > share(kb, b_.samples)) more_5xx = true;
      }
    }
    if (moved)
      add("status_distribution_changed", "", more_5xx ? Severity::major : Severity::minor, families(b_), families(c_));
  }

  static std::uint64_t family_count(const RouteFingerprint& route, int family) {
    std::uint64_t n = 0;
    for (const auto& [status, count] : route.statuses)
      if (status / 100 == family) n += count;
    return n;
  }

  void empty_rate() {
    if (rate_moved(b_.empty, b_.samples, c_.empty, c_.samples))
      add("empty_rate_changed", "", Severity::minor, round3(share(b_.empty, b_.samples)), round3(share(c_.empty, c_.samples)));
  }

  const RouteFingerprint& b_;
  const RouteFingerprint& c_;
  const DiffOptions& options_;
  std::vector<Signal> signals_;
};

// What a fingerprint limit cut on either side, for the event (null when nothing was cut).
nlohmann::json limits_of(const RouteFingerprint& b, const RouteFingerprint& c) {
  if (b.fields_dropped + c.fields_dropped + b.depth_cut + c.depth_cut == 0) return nullptr;
  return {{"max_fields", RouteFingerprint::max_fields()}, {"max_depth", RouteFingerprint::max_depth()},
          {"fields_dropped", {{"baseline", b.fields_dropped}, {"current", c.fields_dropped}}},
          {"depth_cut", {{"baseline", b.depth_cut}, {"current", c.depth_cut}}}};
}

RouteDrift make_drift(const RouteKey& key, std::vector<Signal> signals) {
  RouteDrift drift;
  drift.key = key;
  drift.change_type = change_type_of(signals);
  for (const auto& s : signals)
    if (s.severity == Severity::major) drift.severity = Severity::major;
  drift.signals = std::move(signals);
  return drift;
}

} // namespace

std::string_view to_string(Severity severity) noexcept { return severity == Severity::major ? "major" : "minor"; }

std::string change_type_of(const std::vector<Signal>& signals) {
  if (signals.empty()) return "none";
  for (const auto& s : signals)
    if (s.kind != signals.front().kind) return "mixed";
  return signals.front().kind;
}

std::vector<RouteDrift> diff(const SessionFingerprint& baseline, const SessionFingerprint& current,
                             const DiffOptions& options) {
  std::vector<RouteDrift> out;
  const auto& b = baseline.routes();
  const auto& c = current.routes();
  auto bi = b.begin();
  auto ci = c.begin();
  static const RouteFingerprint absent;
  // A merge over the two ordered route maps: each route is visited once, in order.
  while (bi != b.end() || ci != c.end()) {
    bool take_b = ci == c.end() || (bi != b.end() && bi->first < ci->first);
    bool take_c = bi == b.end() || (ci != c.end() && ci->first < bi->first);
    const RouteKey& key = take_b ? bi->first : ci->first;
    const RouteFingerprint& rb = take_c ? absent : bi->second;
    const RouteFingerprint& rc = take_b ? absent : ci->second;
    if (rb.present() && !rc.present()) {
      out.push_back(make_drift(key, {Signal{"route_removed", "", Severity::major, "present", "absent"}}));
    } else if (!rb.present() && rc.present()) {
      out.push_back(make_drift(key, {Signal{"route_added", "", Severity::minor, "absent", "present"}}));
    } else if (rb.present() && rc.present()) {
      auto signals = RouteComparison(rb, rc, options).run();
      if (!signals.empty()) {
        out.push_back(make_drift(key, std::move(signals)));
        out.back().limits = limits_of(rb, rc);
      }
    }
    if (!take_c) ++bi;
    if (!take_b) ++ci;
  }
  return out;
}

nlohmann::json to_json(const Signal& signal) {
  return {{"signal", signal.kind}, {"field", signal.field}, {"severity", to_string(signal.severity)},
          {"baseline", signal.baseline}, {"current", signal.current}};
}

nlohmann::json signals_to_json(const std::vector<Signal>& signals) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : signals) out.push_back(to_json(s));
  return out;
}

} // namespace gostly::drift
