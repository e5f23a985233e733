#pragma once
// An OpenAPI 3.1 document inferred from recorded traffic. add() folds one interaction into
// per-operation aggregates (route template x method: parameters, request body and responses per
// status, each a SchemaTree per media type, plus one scrubbed example) and forgets it, so memory
// is bounded by routes and fields, never by the number of interactions: a 1 GB recording exports
// in the memory its distinct routes need. document() builds the spec from the aggregates.
#include "export/openapi_schema.hpp"
#include "record/interaction.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gostly::export_ {

struct InferOptions {
  std::string title = "Recorded API";
  std::string version = "1.0.0";
  SchemaLimits limits;
  /// Routes (templated path x method) kept; one more is a util::LimitError naming
  /// GOSTLY_EXPORT_MAX_ROUTES (a document missing routes would pass for a complete one).
  std::size_t max_routes = 10000;
};

/// Examples larger than this (decoded, scrubbed) are left out.
inline constexpr std::size_t kMaxExampleBytes = 16 * 1024;
/// Media types kept per request body or response; servers kept per document.
inline constexpr std::size_t kMaxMediaTypes = 8;
inline constexpr std::size_t kMaxServers = 16;
/// Query parameters kept per operation.
inline constexpr std::size_t kMaxQueryParams = 64;

/// What one media type of a body looked like.
struct MediaAggregate {
  explicit MediaAggregate(const SchemaLimits& limits) : tree(limits) {}
  std::uint64_t samples = 0;
  std::uint64_t json = 0, text = 0, binary = 0;
  SchemaTree tree;                       // JSON bodies
  std::optional<nlohmann::json> example; // the first one, scrubbed (JSON value or text)
  void merge(const MediaAggregate& other);
};

struct BodyAggregate {
  std::uint64_t samples = 0; // interactions with a non-empty body
  std::map<std::string, MediaAggregate> media;
  std::uint64_t media_dropped = 0;
  void merge(const BodyAggregate& other);
};

struct ResponseAggregate {
  std::uint64_t samples = 0;
  std::string reason;
  BodyAggregate body;
};

struct ParameterAggregate {
  explicit ParameterAggregate(const SchemaLimits& limits) : values(limits) {}
  std::uint64_t present = 0;
  SchemaTree values; // typed_value() of each occurrence
  std::optional<nlohmann::json> example;
};

struct OperationAggregate {
  std::uint64_t samples = 0;
  std::map<std::string, ParameterAggregate> query;
  std::uint64_t query_dropped = 0;
  std::map<std::size_t, ParameterAggregate> path; // by segment index of each `{id}`
  BodyAggregate request;
  std::map<int, ResponseAggregate> responses;
  void merge(const OperationAggregate& other);
};

class OpenApiBuilder {
public:
  explicit OpenApiBuilder(InferOptions options = {});

  /// Folds `interaction` into the aggregates. Never throws for a body that is not JSON or does
  /// not decode: those count as text/binary (or undecodable) samples.
  void add(const record::Interaction& interaction);

  /// The OpenAPI 3.1 document, keys in a fixed order (deterministic output). Learns route
  /// templates first (drift::learn_templates), so it merges operations: call it once.
  OrderedJson document();

  std::uint64_t interactions() const noexcept { return interactions_; }
  std::uint64_t methods_skipped() const noexcept { return methods_skipped_; }
  std::uint64_t undecodable() const noexcept { return undecodable_; }
  /// Fields and nesting the limits cut (GOSTLY_DRIFT_MAX_FIELDS, GOSTLY_DRIFT_MAX_DEPTH).
  std::uint64_t fields_dropped() const;
  std::uint64_t depth_cut() const;
  std::size_t operations() const noexcept { return operations_.size(); }

private:
  using Key = std::pair<std::string, std::string>; // templated path, method (lower case)
  void learn_templates();
  template <typename Visit>
  void for_each_tree(Visit visit) const;
  void add_body(BodyAggregate& body, const record::Headers& headers, const std::string& raw, bool request);
  OrderedJson body_content(const BodyAggregate& body) const;

  InferOptions options_;
  std::map<Key, OperationAggregate> operations_;
  std::set<std::string> servers_;
  std::uint64_t interactions_ = 0, methods_skipped_ = 0, undecodable_ = 0;
};

/// `doc` as YAML (block style, keys in document order; strings quoted where YAML would read them
/// as another type) or as indented JSON.
void emit_yaml(const OrderedJson& doc, std::ostream& out);

/// `GET /posts/{id}/comments` -> `getPostsByIdComments`: a stable operationId.
std::string operation_id(std::string_view method, std::string_view path);

} // namespace gostly::export_
