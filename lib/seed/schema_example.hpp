#pragma once
// Deterministic example values synthesised from a JSON Schema (OpenAPI 2.0/3.0/3.1 dialects),
// for operations whose spec gives no `example`: the same schema always yields the same value.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace gostly::seed {

enum class Direction { request, response };

class SchemaExample {
public:
  /// `document` is the whole spec, for resolving local `$ref`s (`#/components/schemas/Pet`).
  explicit SchemaExample(const nlohmann::ordered_json& document) : document_(document) {}

  /// The value of a string with no format, example or enum.
  static constexpr const char* kPlainString = "string";

  /// An example for `schema` (at JSON pointer `pointer`, for errors). An explicit
  /// example/examples/const/default/enum wins; otherwise by type: objects list every property in
  /// spec order (readOnly left out of requests, writeOnly out of responses), arrays hold one item
  /// (or minItems), strings follow `format`, numbers sit at `minimum` or 1. allOf merges, oneOf and
  /// anyOf take the first usable branch. A `$ref` cycle stops where it would repeat: the property
  /// is left out (or null when required, [] for arrays). Throws EntryError for a bad `$ref`.
  nlohmann::ordered_json generate(const nlohmann::ordered_json& schema, Direction direction, const std::string& pointer);

  /// Follows `node`'s `$ref` chain (if any) and returns the target; `pointer` becomes the target's.
  const nlohmann::ordered_json& resolve(const nlohmann::ordered_json& node, std::string& pointer) const;

private:
  std::optional<nlohmann::ordered_json> build(const nlohmann::ordered_json& schema, const std::string& pointer,
                                              int depth);
  const nlohmann::ordered_json& document_;
  Direction direction_ = Direction::response;
  std::vector<std::string> active_refs_;
};

} // namespace gostly::seed
