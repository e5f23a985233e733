#pragma once
// The stateful tiers of the cascade: resource_store (a resource created by a POST in MOCK is
// served by a later GET by id; PUT/PATCH update it, DELETE removes it) and resource_transition
// (bundled statecharts for charge, customer, invoice, order and subscription advance a
// resource's status). This file holds the request shapes, the statecharts and the store; the
// cascade in matcher.cpp decides when they apply.
#include "record/interaction.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <memory>
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

/// The place of a change in recorded order, so that a change made by replaying a recording only
/// overrides what was recorded before it (what the server answered afterwards already includes
/// it, or a later change of its own): the library's recordings count from 0 in library order,
/// the live session's from kSessionSeq, and changes the resource tiers make themselves are
/// kLiveSeq, newer than every recording.
using Seq = std::uint64_t;
inline constexpr Seq kSessionSeq = Seq{1} << 62;
inline constexpr Seq kLiveSeq = std::numeric_limits<Seq>::max();

/// `text` parsed when it is a JSON object; else nullopt.
std::optional<nlohmann::ordered_json> parse_object(std::string_view text);

/// False when the response body is content-encoded (gzip, ...): it cannot be edited as text.
bool body_is_editable(const record::Response& response);

/// A JSON id (string or number) as the text it has in a path.
std::string id_text(const nlohmann::ordered_json& id);

/// What replaying one recording does to the resource its path names.
struct ResourceRef {
  enum class Kind {
    read,   // reads it (GET /c/{id}), or a mutation that failed: answered as the resource is now
    change, // PATCH/PUT /c/{id} (fields: the request body), an action (fields: the status it set)
    remove, // DELETE /c/{id} answered 2xx
    create, // POST /c answered 2xx with an object carrying an id (fields: that object)
  };
  Kind kind = Kind::read;
  std::string collection;
  std::string id;
  nlohmann::ordered_json fields;
};

/// How the recording `method path` with `request_body`, answered `response`, touches a resource;
/// nullptr when its path names none. Reads the bodies once (called when the recording is loaded,
/// or on its first replay for the live session).
std::shared_ptr<const ResourceRef> resource_ref(std::string_view method, std::string_view path,
                                                std::string_view request_body, const record::Response& response);

/// Resources created, updated or deleted while mocking, per collection path. Not thread-safe;
/// the matcher guards it.
class ResourceStore {
public:
  /// One resource as this run sees it.
  struct Entry {
    struct Field {
      std::string name;
      nlohmann::ordered_json value;
      bool removed = false;
      Seq seq = 0;
    };
    nlohmann::ordered_json resource;   // the whole resource now
    std::vector<Field> changed;        // top-level fields this run changed, the latest change of each
    std::optional<Seq> deleted;        // deleted, by the change at this place
    std::optional<Seq> replaced;       // replaced whole (PUT), by the change at this place

    /// What a recording of the resource made at `seq` shows now: `recorded` with every change
    /// made after it applied (the whole resource when it was replaced after it).
    nlohmann::ordered_json view(nlohmann::ordered_json recorded, Seq seq) const;
  };

  enum class Lookup { absent, present, deleted };
  /// Finds `id` in `collection`; sets `resource` when present.
  Lookup find(std::string_view collection, std::string_view id, const nlohmann::ordered_json*& resource) const;
  /// The entry of `id` in `collection` (deleted or not), or nullptr.
  const Entry* entry(std::string_view collection, std::string_view id) const;
  /// A resource created (or known as it is recorded): a fresh entry without changes.
  void put(std::string_view collection, std::string_view id, nlohmann::ordered_json resource);
  /// Applies the JSON merge patch `patch` (an object) to the resource, as the change at `seq`.
  void change(std::string_view collection, std::string_view id, const nlohmann::ordered_json& patch, Seq seq = kLiveSeq);
  /// Replaces the whole resource, as the change at `seq`.
  void replace(std::string_view collection, std::string_view id, nlohmann::ordered_json resource, Seq seq = kLiveSeq);
  /// Deletes the resource, as the change at `seq`.
  void erase(std::string_view collection, std::string_view id, Seq seq = kLiveSeq);
  /// True once some resource was changed, replaced or deleted (not only created) since clear().
  bool has_changes() const noexcept { return changes_; }
  void clear() {
    collections_.clear();
    changes_ = false;
  }
  /// A fresh id for `collection` shaped like the recorded id `example` (an integer above every
  /// integer id seen so far, or the same prefix and length with random characters).
  std::string next_id(std::string_view collection, const nlohmann::ordered_json& example);
  /// Tells the store an id already used by the library, so next_id() does not reuse it.
  void note_id(std::string_view collection, std::string_view id);

private:
  struct Collection {
    std::unordered_map<std::string, Entry> items;
    long long highest = 0;
  };
  Entry& entry_for(std::string_view collection, std::string_view id);

  std::unordered_map<std::string, Collection> collections_;
  bool changes_ = false;
  std::mt19937_64 random_{std::random_device{}()};
};

} // namespace gostly::match
