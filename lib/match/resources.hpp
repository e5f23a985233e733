#pragma once
// The stateful tiers of the cascade: resource_store (a resource created by a POST in MOCK is
// served by a later GET by id; PUT/PATCH update it, DELETE removes it) and resource_transition
// (bundled statecharts for charge, customer, invoice, order and subscription advance a
// resource's status). This file holds the request shapes, the statecharts and the store; the
// cascade in matcher.cpp decides when they apply.
#include <nlohmann/json.hpp>

#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gostly::match {

/// A request path read as a resource operation: `collection` is the path of the collection
/// (`/v1/orders`), `id` the resource id when the path names one, `action` the last segment of
/// `POST /c/{id}/{action}`.
struct ResourcePath {
  std::string collection;
  std::string id;
  std::string action;
};

/// Reads the path `path`: `/c` (a collection), `/c/{id}` (a resource), `/c/{id}/{word}` (a
/// resource and an action word). nullopt when the path has none of these shapes.
std::optional<ResourcePath> parse_resource_path(std::string_view path);

/// One bundled lifecycle: `initial` state and the edges `action: from -> to`.
struct Statechart {
  struct Edge {
    std::string_view action, from, to;
  };
  std::string_view name;
  std::string_view initial;
  std::vector<Edge> edges;

  /// The edge for `action` from state `from`, or nullptr.
  const Edge* find(std::string_view from, std::string_view action) const noexcept;
  /// True when some edge is labelled `action`.
  bool knows(std::string_view action) const noexcept;
  /// Actions allowed from state `from`, in chart order.
  std::vector<std::string_view> allowed(std::string_view from) const;
};

/// The bundled chart for the collection whose path is `collection` (its last segment, plural or
/// singular: `/v1/orders` -> order), or nullptr.
const Statechart* statechart_for(std::string_view collection);

/// The status field of a resource: "status", else "state" when only that is present.
std::string_view status_field(const nlohmann::ordered_json& resource);

/// Resources created, updated or deleted while mocking, per collection path. Not thread-safe;
/// the matcher guards it.
class ResourceStore {
public:
  enum class Lookup { absent, present, deleted };
  /// Finds `id` in `collection`; sets `resource` when present.
  Lookup find(std::string_view collection, std::string_view id, const nlohmann::ordered_json*& resource) const;
  void put(std::string_view collection, std::string_view id, nlohmann::ordered_json resource);
  void erase(std::string_view collection, std::string_view id);
  void clear() { collections_.clear(); }
  /// A fresh id for `collection` shaped like the recorded id `example` (an integer above every
  /// integer id seen so far, or the same prefix and length with random characters).
  std::string next_id(std::string_view collection, const nlohmann::ordered_json& example);
  /// Tells the store an id already used by the library, so next_id() does not reuse it.
  void note_id(std::string_view collection, std::string_view id);

private:
  struct Collection {
    std::unordered_map<std::string, std::optional<nlohmann::ordered_json>> items; // nullopt: deleted
    long long highest = 0;
  };
  std::unordered_map<std::string, Collection> collections_;
  std::mt19937_64 random_{std::random_device{}()};
};

} // namespace gostly::match
