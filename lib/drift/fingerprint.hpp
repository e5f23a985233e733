#pragma once
// Value-free fingerprints of recording sessions: what a session says about each route's
// responses (field set, types, cardinality, string formats, status families, empty rate)
// without keeping a single response value. See fingerprint.cpp for the why.
#include "record/interaction.hpp"
#include "util/string_format.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gostly::drift {

enum class JsonType : std::uint8_t { null, boolean, integer, number, string, object, array };
inline constexpr std::size_t kJsonTypes = 7;
std::string_view to_string(JsonType type) noexcept;
/// The JsonType of a parsed value (unsigned and signed integers are both `integer`).
JsonType type_of(const nlohmann::json& value) noexcept;

// String formats are the toolkit's one notion of format (util/string_format.hpp), shared with
// the normalized match tier.
using util::StringFormat;
using util::kStringFormats;
using util::is_time_format;
using util::to_string;
using util::classify_string;

enum class Cardinality : std::uint8_t { singleton, low, medium, high, unbounded };
std::string_view to_string(Cardinality bucket) noexcept;

/// The bucket for `distinct` values among `samples`: singleton (1), low (2–10), unbounded (more
/// than 10 and at least half of the samples distinct: ids, uuids, timestamps), medium (up to
/// 1000), high (more).
Cardinality cardinality_bucket(std::uint64_t distinct, std::uint64_t samples) noexcept;

/// First 64 bits of the SHA-256 of `bytes`: the only form in which a value outlives its line.
std::uint64_t value_hash(std::string_view bytes) noexcept;

/// A K-minimum-values distinct counter over value hashes: exact up to kCapacity distinct
/// values, an estimate (about 6% error) beyond, in constant memory.
class DistinctSketch {
public:
  static constexpr std::size_t kCapacity = 256;
  void add(std::uint64_t hash);
  void merge(const DistinctSketch& other);
  std::uint64_t estimate() const noexcept;

private:
  std::vector<std::uint64_t> smallest_; // ascending, at most kCapacity
};

/// What a session says about one field path (`name`, `address.city`, `items[].id`).
struct FieldStats {
  std::uint64_t present = 0;                      // times the path appeared (null included)
  std::array<std::uint64_t, kJsonTypes> types{};  // per JsonType
  std::array<std::uint64_t, kStringFormats> formats{};
  std::uint64_t scalar_values = 0;                // non-null scalars hashed into `distinct`
  DistinctSketch distinct;
  DistinctSketch pairs;                           // distinct (request URI, value): is the value the request's?
  std::map<std::string, std::uint64_t> shapes;    // top-level fields: recursive type shapes

  std::uint64_t non_null() const noexcept;
  /// The dominant non-null type (integer folds into number when floats were seen); nullopt
  /// when the field was only ever null.
  std::optional<JsonType> dominant_type() const noexcept;
  /// The most common shape string, or empty.
  std::string modal_shape() const;
  std::uint64_t string_values() const noexcept;
  void merge(const FieldStats& other);
};

/// How a response body decoded.
enum class BodyKind : std::uint8_t { object, array, scalar, empty, not_json };
inline constexpr std::size_t kBodyKinds = 5;
std::string_view to_string(BodyKind kind) noexcept;

struct RouteKey {
  std::string method;
  std::string route; // templated path, `/users/{id}`
  auto operator<=>(const RouteKey&) const = default;
};

struct RouteFingerprint {
  std::uint64_t samples = 0;
  std::uint64_t empty = 0;                       // body empty, `{}` or `null`
  std::array<std::uint64_t, kBodyKinds> body_kinds{};
  std::map<int, std::uint64_t> statuses;
  std::map<std::string, FieldStats> fields;
  std::uint64_t fields_dropped = 0;              // paths beyond kMaxFieldsPerRoute
  std::uint64_t depth_cut = 0;                   // objects/arrays not followed past max_depth()
  DistinctSketch requests;                       // distinct request URIs: how many different questions
  std::uint64_t undecodable = 0;                 // bodies whose Content-Encoding did not decode
  std::string undecodable_reason;                // the first such error (names a coding, never a value)

  static constexpr std::size_t kMaxFieldsPerRoute = 4096; // GOSTLY_DRIFT_MAX_FIELDS default
  static constexpr std::size_t kMaxDepth = 32;            // GOSTLY_DRIFT_MAX_DEPTH default
  /// The limits in force: GOSTLY_DRIFT_MAX_FIELDS and GOSTLY_DRIFT_MAX_DEPTH, read once.
  static std::size_t max_fields();
  static std::size_t max_depth();


  /// True when the route answered something other than "no such route" (404/405/501) at least
  /// once: a route that only ever says it does not exist counts as absent for topology.
  bool present() const noexcept;
  std::optional<BodyKind> modal_body_kind() const noexcept;
  std::optional<int> modal_status() const noexcept;
  /// Fraction of samples in status family `family` (2 for 2xx, ...).
  double family_rate(int family) const noexcept;
  std::uint64_t object_bodies() const noexcept { return body_kinds[static_cast<std::size_t>(BodyKind::object)]; }
  /// Adds what `other` saw (two concrete routes folded into one template).
  void merge(const RouteFingerprint& other);
};

/// A session reduced to one fingerprint per route. add() reads an interaction and forgets it.
class SessionFingerprint {
public:
  static constexpr std::size_t kMaxRoutes = 20000;

  void add(const record::Interaction& interaction);
  const std::map<RouteKey, RouteFingerprint>& routes() const noexcept { return routes_; }
  std::uint64_t interactions() const noexcept { return interactions_; }
  std::uint64_t routes_dropped() const noexcept { return routes_dropped_; }
  /// Re-keys every route by `rename`, merging routes that get the same key.
  template <typename Rename>
  void rename_routes(Rename rename) {
    std::map<RouteKey, RouteFingerprint> out;
    for (auto& [key, route] : routes_) {
      auto [it, inserted] = out.try_emplace(rename(key));
      if (inserted) it->second = std::move(route);
      else it->second.merge(route);
    }
    routes_ = std::move(out);
  }

private:
  std::map<RouteKey, RouteFingerprint> routes_;
  std::uint64_t interactions_ = 0;
  std::uint64_t routes_dropped_ = 0;
};

/// How an object key appears in field paths and shapes: `key` itself when it names a field,
/// `{key}` when the key is data (a number, a uuid, a long hex or mixed token, a date, an email,
/// ...), as in maps keyed by ids. Such keys change with every recording, like values.
std::string_view field_key(std::string_view key) noexcept;

/// The recursive type shape of `value`, keys sorted, data keys folded into one `{key}` entry:
/// `object{id:number,tags:array<string>}`.
std::string shape_of(const nlohmann::json& value, std::size_t depth = 0);

} // namespace gostly::drift
