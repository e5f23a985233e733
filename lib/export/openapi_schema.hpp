#pragma once
// JSON Schema (OpenAPI 3.1 dialect) inferred from sample values, in memory bounded by fields,
// not by samples. One SchemaNode per field path keeps the drift fingerprint's counts for that
// path (drift::FieldStats: presence, JSON types, string formats), so "type", "format" and
// "required" mean here what they mean to the drift detector; the only values kept are up to
// kMaxEnumValues short strings per field, for enums.
#include "drift/fingerprint.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gostly::export_ {

using OrderedJson = nlohmann::ordered_json;

/// A string field becomes an enum when it took at most this many distinct values (each at most
/// kMaxEnumLength bytes, none of a named format) and each value was seen at least twice on average.
inline constexpr std::size_t kMaxEnumValues = 10;
inline constexpr std::size_t kMaxEnumLength = 64;
/// An enum of one value needs this many samples (a constant like `"object": "list"`).
inline constexpr std::uint64_t kMinSingletonEnumSamples = 4;

/// The limits a SchemaTree honours: fields per tree (GOSTLY_DRIFT_MAX_FIELDS) and nesting depth
/// (GOSTLY_DRIFT_MAX_DEPTH), the drift fingerprint's limits.
struct SchemaLimits {
  std::size_t max_fields = drift::RouteFingerprint::max_fields();
  std::size_t max_depth = drift::RouteFingerprint::max_depth();
  bool enums = true;
};

class SchemaNode {
public:
  SchemaNode() = default;
  SchemaNode(const SchemaNode& other);
  SchemaNode& operator=(const SchemaNode& other);
  SchemaNode(SchemaNode&&) noexcept = default;
  SchemaNode& operator=(SchemaNode&&) noexcept = default;

  drift::FieldStats stats;                                    // present, types, formats
  std::map<std::string, std::unique_ptr<SchemaNode>> properties; // by drift::field_key; `{key}` = data keys
  std::unique_ptr<SchemaNode> items;                          // array elements
  std::vector<std::string> enum_values;                       // sorted, at most kMaxEnumValues
  bool enum_overflow = false;                                 // more (or longer) values than an enum keeps

  /// The schema of every value seen here (`type` a list with "null" when null was seen).
  OrderedJson schema(const SchemaLimits& limits) const;
};

/// The schema of one body, media type or parameter: a root node and the limits it stayed in.
class SchemaTree {
public:
  explicit SchemaTree(SchemaLimits limits = {}) : limits_(limits) {}
  void add(const nlohmann::json& value);
  void merge(const SchemaTree& other);
  OrderedJson schema() const { return root_.schema(limits_); }
  std::uint64_t samples() const noexcept { return root_.stats.present; }
  std::uint64_t fields_dropped() const noexcept { return fields_dropped_; }
  std::uint64_t depth_cut() const noexcept { return depth_cut_; }
  std::size_t nodes() const noexcept { return nodes_; }

private:
  void observe(SchemaNode& node, const nlohmann::json& value, std::size_t depth);
  SchemaNode* child(std::unique_ptr<SchemaNode>& slot);
  void merge_node(SchemaNode& into, const SchemaNode& from);

  SchemaLimits limits_;
  SchemaNode root_;
  std::size_t nodes_ = 1;
  std::uint64_t fields_dropped_ = 0;
  std::uint64_t depth_cut_ = 0;
};

/// The OpenAPI `format` for a drift string format, or empty when it has none (phone, text, ...).
std::string_view openapi_format(drift::StringFormat format) noexcept;

/// A query or path parameter's text as the JSON value it most likely denotes: `42` -> 42,
/// `1.5` -> 1.5, `true` -> true, anything else (including `007`) the string itself.
nlohmann::json typed_value(std::string_view text);

} // namespace gostly::export_
