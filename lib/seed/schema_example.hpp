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
  explicit SchemaExample(const nlohmann::ordered_json& document);

  /// The value of a string with no format, example or enum.
  static constexpr const char* kPlainString = "string";

  /// An example for `schema` (at JSON pointer `pointer`, for errors). An explicit
  /// example/examples/const/default/enum wins; otherwise by type: objects list every property in
  /// spec order (readOnly left out of requests, writeOnly out of responses), arrays hold one item
  /// (or minItems), strings follow `format`, numbers sit at `minimum` or 1. allOf merges, oneOf and
  /// anyOf take the first usable branch. A `$ref` cycle stops where it would repeat: the property
  /// is left out (or null when required, [] for arrays). Throws EntryError for a bad `$ref`, and
  /// LimitExceeded when the document's work budget (work_limit()) runs out.
  nlohmann::ordered_json generate(const nlohmann::ordered_json& schema, Direction direction, const std::string& pointer);

  /// Follows `node`'s `$ref` chain (if any) and returns the target; `pointer` becomes the target's.
  const nlohmann::ordered_json& resolve(const nlohmann::ordered_json& node, std::string& pointer) const;

  /// GOSTLY_MAX_SCHEMA_WORK: the work one document's examples may cost (default 500 000,
  /// about a fifth of a second; a large real spec, Twilio's 1.9 MB api_v2010, needs 5 000), counted as one
  /// per schema visited and per property allOf merges, plus the size of every value copied
  /// (example, enum, default; one per value, one more per 64 bytes of string). $ref fan-out (allOf x 30 of a schema
  /// that does the same) and one big example referenced everywhere both run out of it.
  static std::size_t work_limit();

  /// Pays for copying `value` (an example taken verbatim, at `pointer`) from the same budget.
  void charge(const nlohmann::ordered_json& value, const std::string& pointer);

private:
  std::optional<nlohmann::ordered_json> build(const nlohmann::ordered_json& schema, const std::string& pointer,
                                              int depth, bool skip_all_of = false);
  void spend(std::size_t units, const std::string& pointer);
  const nlohmann::ordered_json& document_;
  std::size_t work_limit_;
  std::size_t work_ = 0;
  Direction direction_ = Direction::response;
  std::vector<std::string> active_refs_;
};

} // namespace gostly::seed
