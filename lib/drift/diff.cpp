#include "drift/diff.hpp"

#include <cmath>
#include <cstdlib>

namespace gostly::drift {
namespace {

constexpr double kStableFormatShare = 0.9;
constexpr double kMinRateShift = 0.1;

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

// A rate moved when it changed by at least 0.1 and at least doubled or halved.
bool rate_moved(double before, double after) {
  if (std::abs(after - before) < kMinRateShift) return false;
  return after >= 2 * before || after * 2 <= before;
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
        if (parent_objects(c_, path) > 0)
          add("field_removed", path, Severity::major, describe_present(before, path), nullptr);
        continue;
      }
      compare_field(path, before, it->second);
    }
    for (const auto& [path, after] : c_.fields) {
      if (b_.fields.count(path) == 0 && parent_objects(b_, path) > 0) {
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
    if (*tb != *tc && !numeric) {
      bool required = before.present >= parent_objects(b_, path);
      add("type_changed", path, required ? Severity::major : Severity::minor, describe_type(before, *tb),
          describe_type(after, *tc));
      return;
    }
    if (*tb == JsonType::string) format(path, before, after);
    cardinality(path, before, after);
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

  // One value says nothing about variation, so both sides need two values of the field. A side
  // on which no value ever repeated only shows a lower bound: five fresh ids are "low" because
  // there were five samples, not because the field stopped varying. So a move down to such a
  // side is a sample-size artefact, not drift (a re-recording with fewer calls is healthy).
  void cardinality(const std::string& path, const FieldStats& before, const FieldStats& after) {
    if (before.scalar_values < 2 || after.scalar_values < 2) return;
    auto bb = cardinality_bucket(before.distinct.estimate(), before.scalar_values);
    auto bc = cardinality_bucket(after.distinct.estimate(), after.scalar_values);
    int moved = std::abs(static_cast<int>(bb) - static_cast<int>(bc));
    if (moved == 0) return;
    auto never_repeated = [](const FieldStats& stats) { return stats.distinct.estimate() >= stats.scalar_values; };
    if ((bc < bb && never_repeated(after)) || (bb < bc && never_repeated(before))) return;
    add("cardinality_changed", path, moved >= 2 ? Severity::major : Severity::minor, to_string(bb), to_string(bc));
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
      double pb = b_.family_rate(family);
      double pc = c_.family_rate(family);
      if (rate_moved(pb, pc)) {
        moved = true;
        if (family == 5 && pc > pb) more_5xx = true;
      }
    }
    if (moved)
      add("status_distribution_changed", "", more_5xx ? Severity::major : Severity::minor, families(b_), families(c_));
  }

  void empty_rate() {
    double before = share(b_.empty, b_.samples);
    double after = share(c_.empty, c_.samples);
    if (rate_moved(before, after)) add("empty_rate_changed", "", Severity::minor, round3(before), round3(after));
  }

  const RouteFingerprint& b_;
  const RouteFingerprint& c_;
  const DiffOptions& options_;
  std::vector<Signal> signals_;
};

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
      if (!signals.empty()) out.push_back(make_drift(key, std::move(signals)));
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
