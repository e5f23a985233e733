// Fingerprints: how to notice that an upstream changed without remembering what it said.
//
// Two recordings of the same endpoint always differ: new ids, new timestamps, new tokens. That
// is healthy variance. What matters is whether the *kind* of answer changed, so a session is
// reduced, route by route, to statistics that describe responses without containing them:
//
//   - the set of field paths (`name`, `address.city`, `items[].id`; a key that is itself data,
//     like the ids of a map keyed by id, is folded into `{key}`), how often each appeared
//     relative to its parent (a field present every time its parent was is "required"), and a
//     recursive type-shape string per top-level field;
//   - per path, counts of JSON types (null is counted but never dominant: int|null is integer);
//   - per path, the number of distinct scalar values, counted from the first 64 bits of each
//     value's SHA-256 in a K-minimum-values sketch: exact up to 256 distinct values, an
//     estimate beyond, constant memory either way;
//   - per string path, counts of named formats (uuid, iso_datetime, ...; everything else is
//     `text`, which diff.cpp treats as opaque);
//   - per route, counts of statuses, of body kinds (object, array, scalar, empty, not JSON) and
//     of empty bodies (`{}`, `null`, nothing).
//
// A parsed body lives only inside add(); what survives is counts and hashes. Memory is bounded
// by routes x fields: routes are templated (`/users/{id}`), each route keeps at most
// GOSTLY_DRIFT_MAX_FIELDS (4096) paths (objects keyed by ids would otherwise grow without
// bound; extra paths are counted, not kept) and nesting is followed GOSTLY_DRIFT_MAX_DEPTH (32)
// levels deep; what a limit cut is counted, logged and put in the event. Nothing grows with the number of interactions, which
// is what lets a drift check stream two sessions of a million interactions each.
#include "drift/fingerprint.hpp"

#include "drift/route.hpp"
#include "record/body_encoding.hpp"
#include "util/limits.hpp"

#include <algorithm>
#include <cctype>
#include <openssl/sha.h>
#include <set>

namespace gostly::drift {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

constexpr std::size_t kMaxShapesPerField = 8;
constexpr std::size_t kMaxShapeLength = 512;
constexpr std::size_t kMaxShapeDepth = 6;

class BodyWalker {
public:
  BodyWalker(RouteFingerprint& route, std::uint64_t request_hash)
      : route_(route), request_mix_(request_hash * 0x9E3779B97F4A7C15ull), max_fields_(RouteFingerprint::max_fields()), max_depth_(RouteFingerprint::max_depth()) {}

  void walk_object(const nlohmann::json& object, const std::string& prefix, std::size_t depth) {
    for (const auto& [raw_key, value] : object.items()) {
      std::string key(field_key(raw_key));
      std::string path = prefix.empty() ? key : prefix + "." + key;
      observe(path, value, depth, prefix.empty());
    }
  }

private:
  FieldStats* field(const std::string& path) {
    auto it = route_.fields.find(path);
    if (it != route_.fields.end()) return &it->second;
    if (route_.fields.size() >= max_fields_) {
      ++route_.fields_dropped;
      return nullptr;
    }
    return &route_.fields[path];
  }

  void observe(const std::string& path, const nlohmann::json& value, std::size_t depth, bool top_level) {
    FieldStats* stats = field(path);
    if (!stats) return;
    ++stats->present;
    JsonType type = type_of(value);
    ++stats->types[static_cast<std::size_t>(type)];
    if (type == JsonType::string) {
      const auto& text = value.get_ref<const std::string&>();
      ++stats->formats[static_cast<std::size_t>(classify_string(text))];
      add_value(*stats, value_hash("s" + text));
    } else if (type != JsonType::null && type != JsonType::object && type != JsonType::array) {
      add_value(*stats, value_hash(value.dump()));
    }
    if (top_level) {
      std::string shape = shape_of(value);
      auto it = stats->shapes.find(shape);
      if (it != stats->shapes.end()) ++it->second;
      else if (stats->shapes.size() < kMaxShapesPerField) stats->shapes.emplace(std::move(shape), 1);
      else ++stats->shapes["(other)"];
    }
    if (depth + 1 >= max_depth_) {
      if ((type == JsonType::object || type == JsonType::array) && !value.empty()) ++route_.depth_cut;
      return;
    }
    if (type == JsonType::object) {
      walk_object(value, path, depth + 1);
    } else if (type == JsonType::array) {
      std::string element = path + "[]";
      for (const auto& item : value) observe(element, item, depth + 1, false);
    }
  }

  void add_value(FieldStats& stats, std::uint64_t hash) {
    ++stats.scalar_values;
    stats.distinct.add(hash);
    stats.pairs.add(hash ^ request_mix_); // still uniform, so the sketch's estimate holds
  }

  RouteFingerprint& route_;
  std::uint64_t request_mix_;
  std::size_t max_fields_;
  std::size_t max_depth_;
};

constexpr std::string_view kDataKey = "{key}";

bool is_alnum(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool blank(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

template <std::size_t N>
std::size_t argmax(const std::array<std::uint64_t, N>& counts) noexcept {
  return static_cast<std::size_t>(std::max_element(counts.begin(), counts.end()) - counts.begin());
}

} // namespace

JsonType type_of(const nlohmann::json& value) noexcept {
  switch (value.type()) {
  case nlohmann::json::value_t::null: return JsonType::null;
  case nlohmann::json::value_t::boolean: return JsonType::boolean;
  case nlohmann::json::value_t::number_integer:
  case nlohmann::json::value_t::number_unsigned: return JsonType::integer;
  case nlohmann::json::value_t::number_float: return JsonType::number;
  case nlohmann::json::value_t::string: return JsonType::string;
  case nlohmann::json::value_t::object: return JsonType::object;
  default: return JsonType::array;
  }
}

std::string_view to_string(JsonType type) noexcept {
  static constexpr std::string_view names[] = {"null", "boolean", "integer", "number", "string", "object", "array"};
  return names[static_cast<std::size_t>(type)];
}

std::size_t RouteFingerprint::max_fields() {
  static const std::size_t limit = util::limit_from_env("GOSTLY_DRIFT_MAX_FIELDS", kMaxFieldsPerRoute);
  return limit;
}

std::size_t RouteFingerprint::max_depth() {
  static const std::size_t limit = util::limit_from_env("GOSTLY_DRIFT_MAX_DEPTH", kMaxDepth);
  return limit;
}


std::string_view to_string(Cardinality bucket) noexcept {
  static constexpr std::string_view names[] = {"singleton", "low", "medium", "high", "unbounded"};
  return names[static_cast<std::size_t>(bucket)];
}

std::string_view to_string(BodyKind kind) noexcept {
  static constexpr std::string_view names[] = {"object", "array", "scalar", "empty", "not_json"};
  return names[static_cast<std::size_t>(kind)];
}

// Stricter than a path segment's id test (no `prefix_1234` rule): `address_line2` is a field.
std::string_view field_key(std::string_view key) noexcept {
  auto has_digit = std::any_of(key.begin(), key.end(), is_digit);
  bool hex_token = key.size() >= 12 && has_digit && std::all_of(key.begin(), key.end(), is_hex);
  bool mixed_token = key.size() >= 16 && has_digit && std::all_of(key.begin(), key.end(), is_alnum) &&
                     std::any_of(key.begin(), key.end(), [](char c) { return !is_digit(c); });
  if (hex_token || mixed_token) return kDataKey;
  auto format = classify_string(key);
  if (format != StringFormat::text || is_data_segment(key, format)) return kDataKey;
  return key;
}

Cardinality cardinality_bucket(std::uint64_t distinct, std::uint64_t samples) noexcept {
  if (distinct <= 1) return Cardinality::singleton;
  if (distinct <= 10) return Cardinality::low;
  if (distinct * 2 >= samples) return Cardinality::unbounded;
  if (distinct <= 1000) return Cardinality::medium;
  return Cardinality::high;
}

std::uint64_t value_hash(std::string_view bytes) noexcept {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  std::uint64_t out = 0;
  for (int i = 0; i < 8; ++i) out = (out << 8) | digest[i];
  return out;
}

void DistinctSketch::add(std::uint64_t hash) {
  if (smallest_.size() == kCapacity && hash >= smallest_.back()) return;
  auto it = std::lower_bound(smallest_.begin(), smallest_.end(), hash);
  if (it != smallest_.end() && *it == hash) return;
  smallest_.insert(it, hash);
  if (smallest_.size() > kCapacity) smallest_.pop_back();
}

void DistinctSketch::merge(const DistinctSketch& other) {
  for (auto hash : other.smallest_) add(hash);
}

void FieldStats::merge(const FieldStats& other) {
  present += other.present;
  for (std::size_t i = 0; i < kJsonTypes; ++i) types[i] += other.types[i];
  for (std::size_t i = 0; i < kStringFormats; ++i) formats[i] += other.formats[i];
  scalar_values += other.scalar_values;
  distinct.merge(other.distinct);
  pairs.merge(other.pairs);
  for (const auto& [shape, n] : other.shapes) {
    auto it = shapes.find(shape);
    if (it != shapes.end()) it->second += n;
    else if (shapes.size() < kMaxShapesPerField) shapes.emplace(shape, n);
    else shapes["(other)"] += n;
  }
}

void RouteFingerprint::merge(const RouteFingerprint& other) {
  samples += other.samples;
  empty += other.empty;
  for (std::size_t i = 0; i < kBodyKinds; ++i) body_kinds[i] += other.body_kinds[i];
  for (const auto& [status, n] : other.statuses)
    if (statuses.size() < 64 || statuses.count(status)) statuses[status] += n;
  for (const auto& [path, stats] : other.fields) {
    auto it = fields.find(path);
    if (it != fields.end()) it->second.merge(stats);
    else if (fields.size() < max_fields()) fields.emplace(path, stats);
    else ++fields_dropped;
  }
  fields_dropped += other.fields_dropped;
  depth_cut += other.depth_cut;
  requests.merge(other.requests);
  if (undecodable == 0) undecodable_reason = other.undecodable_reason;
  undecodable += other.undecodable;
}

std::uint64_t DistinctSketch::estimate() const noexcept {
  if (smallest_.size() < kCapacity) return smallest_.size();
  // The k-th smallest of n uniform hashes sits near k/n of the range, so n ~ (k-1) / (kth/range).
  long double fraction = static_cast<long double>(smallest_.back()) / 18446744073709551616.0L;
  if (fraction <= 0) return kCapacity;
  return static_cast<std::uint64_t>((kCapacity - 1) / fraction);
}

std::uint64_t FieldStats::non_null() const noexcept {
  return present - types[static_cast<std::size_t>(JsonType::null)];
}

std::optional<JsonType> FieldStats::dominant_type() const noexcept {
  auto counts = types;
  counts[static_cast<std::size_t>(JsonType::null)] = 0;
  auto& integer = counts[static_cast<std::size_t>(JsonType::integer)];
  auto& number = counts[static_cast<std::size_t>(JsonType::number)];
  if (number > 0) {
    number += integer;
    integer = 0;
  }
  std::size_t best = argmax(counts);
  if (counts[best] == 0) return std::nullopt;
  return static_cast<JsonType>(best);
}

std::string FieldStats::modal_shape() const {
  std::string best;
  std::uint64_t count = 0;
  for (const auto& [shape, n] : shapes)
    if (n > count) best = shape, count = n;
  return best;
}

std::uint64_t FieldStats::string_values() const noexcept {
  return types[static_cast<std::size_t>(JsonType::string)];
}

bool RouteFingerprint::present() const noexcept {
  for (const auto& [status, count] : statuses)
    if (status != 404 && status != 405 && status != 501 && count > 0) return true;
  return false;
}

std::optional<BodyKind> RouteFingerprint::modal_body_kind() const noexcept {
  if (samples == 0) return std::nullopt;
  return static_cast<BodyKind>(argmax(body_kinds));
}

std::optional<int> RouteFingerprint::modal_status() const noexcept {
  std::optional<int> best;
  std::uint64_t count = 0;
  for (const auto& [status, n] : statuses)
    if (n > count) best = status, count = n;
  return best;
}

double RouteFingerprint::family_rate(int family) const noexcept {
  if (samples == 0) return 0;
  std::uint64_t in_family = 0;
  for (const auto& [status, n] : statuses)
    if (status / 100 == family) in_family += n;
  return static_cast<double>(in_family) / static_cast<double>(samples);
}

void SessionFingerprint::add(const record::Interaction& interaction) {
  ++interactions_;
  RouteKey key{interaction.request.method, template_path(interaction.request.uri)};
  auto it = routes_.find(key);
  if (it == routes_.end()) {
    if (routes_.size() >= kMaxRoutes) {
      ++routes_dropped_;
      return;
    }
    it = routes_.emplace(std::move(key), RouteFingerprint{}).first;
  }
  RouteFingerprint& route = it->second;
  ++route.samples;
  const std::uint64_t request_hash = value_hash(interaction.request.uri);
  route.requests.add(request_hash);
  if (route.statuses.size() < 64 || route.statuses.count(interaction.response.status))
    ++route.statuses[interaction.response.status];

  // Bodies are fingerprinted as the client read them: Content-Encoding undone first. A body that
  // does not decode (corrupt, unknown coding, past GOSTLY_MAX_DECODED_BODY) is counted and
  // named by check.cpp, and gives no body signal.
  std::string decoded;
  const std::string* body_ptr = &interaction.response.body;
  try {
    body_ptr = &record::decoded_body(interaction.response, decoded);
  } catch (const Error& error) { // BodyEncodingError, util::LimitError
    if (route.undecodable++ == 0) route.undecodable_reason = error.what();
    return;
  }
  const std::string& body = *body_ptr;
  BodyKind kind;
  nlohmann::json parsed;
  if (blank(body)) {
    kind = BodyKind::empty;
  } else {
    parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) kind = BodyKind::not_json;
    else if (parsed.is_object()) kind = BodyKind::object;
    else if (parsed.is_array()) kind = BodyKind::array;
    else kind = BodyKind::scalar;
  }
  bool empty = kind == BodyKind::empty || parsed.is_null() || (parsed.is_object() && parsed.empty());
  if (kind == BodyKind::scalar && parsed.is_null()) kind = BodyKind::empty;
  if (empty) ++route.empty;
  ++route.body_kinds[static_cast<std::size_t>(kind)];
  if (kind == BodyKind::object) BodyWalker(route, request_hash).walk_object(parsed, "", 0);
}

std::string shape_of(const nlohmann::json& value, std::size_t depth) {
  switch (type_of(value)) {
  case JsonType::null: return "null";
  case JsonType::boolean: return "boolean";
  case JsonType::integer:
  case JsonType::number: return "number"; // 10 and 10.5 are one shape; type_changed tells them apart
  case JsonType::string: return "string";
  case JsonType::object: {
    if (depth >= kMaxShapeDepth) return "object{...}";
    std::string out = "object{";
    bool first = true;
    std::set<std::string> data_keyed; // the shapes under data keys, one `{key}` entry for all
    for (const auto& [key, item] : value.items()) { // nlohmann::json objects iterate in key order
      if (field_key(key) == kDataKey) {
        if (data_keyed.size() <= 4) data_keyed.insert(shape_of(item, depth + 1));
        continue;
      }
      if (!first) out += ',';
      first = false;
      out += key;
      out += ':';
      out += shape_of(item, depth + 1);
      if (out.size() > kMaxShapeLength) return out.substr(0, kMaxShapeLength) + "...}";
    }
    if (!data_keyed.empty()) {
      if (!first) out += ',';
      out += kDataKey;
      out += ':';
      if (data_keyed.size() > 4) {
        out += "mixed";
      } else {
        bool first_shape = true;
        for (const auto& shape : data_keyed) {
          if (!first_shape) out += '|';
          first_shape = false;
          out += shape;
        }
      }
      if (out.size() > kMaxShapeLength) return out.substr(0, kMaxShapeLength) + "...}";
    }
    return out + "}";
  }
  case JsonType::array: {
    if (depth >= kMaxShapeDepth) return "array<...>";
    std::set<std::string> elements;
    for (const auto& item : value) {
      elements.insert(shape_of(item, depth + 1));
      if (elements.size() > 4) return "array<mixed>";
    }
    std::string out = "array<";
    bool first = true;
    for (const auto& shape : elements) {
      if (!first) out += '|';
      first = false;
      out += shape;
    }
    return out + ">";
  }
  }
  return "unknown";
}

} // namespace gostly::drift
