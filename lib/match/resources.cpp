#include "match/resources.hpp"

#include "match/smart_swap.hpp"
#include "util/encoding.hpp"

#include <algorithm>
#include <charconv>
#include <random>

namespace gostly::match {
namespace {

const std::vector<Statechart>& bundled_charts() {
  // Lifecycles modelled on the public payment and commerce APIs the product guides name; each
  // starts in `initial` when a resource carries no status of its own.
  static const std::vector<Statechart> charts = {
      {"charge", "pending", {{"capture", "pending", "succeeded"}, {"fail", "pending", "failed"},
                             {"refund", "succeeded", "refunded"}}},
      {"customer", "active", {{"suspend", "active", "suspended"}, {"reactivate", "suspended", "active"},
                              {"archive", "active", "archived"}, {"archive", "suspended", "archived"}}},
      {"invoice", "draft", {{"finalize", "draft", "open"}, {"pay", "open", "paid"}, {"void", "open", "void"},
                            {"mark_uncollectible", "open", "uncollectible"}, {"pay", "uncollectible", "paid"},
                            {"void", "uncollectible", "void"}}},
      {"order", "pending", {{"pay", "pending", "paid"}, {"ship", "paid", "shipped"}, {"deliver", "shipped", "delivered"},
                            {"cancel", "pending", "cancelled"}, {"cancel", "paid", "cancelled"},
                            {"refund", "paid", "refunded"}, {"refund", "delivered", "refunded"}}},
      {"subscription", "active", {{"activate", "trialing", "active"}, {"activate", "incomplete", "active"},
                                  {"pause", "active", "paused"}, {"resume", "paused", "active"},
                                  {"fail_payment", "active", "past_due"}, {"pay", "past_due", "active"},
                                  {"cancel", "trialing", "canceled"}, {"cancel", "active", "canceled"},
                                  {"cancel", "past_due", "canceled"}, {"cancel", "paused", "canceled"}}},
  };
  return charts;
}

std::string join(const std::vector<std::string_view>& segments, std::size_t count) {
  std::string path;
  for (std::size_t i = 0; i < count; ++i) path.append("/").append(segments[i]);
  return path;
}

std::optional<long long> as_integer(std::string_view s) {
  long long value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

} // namespace

std::optional<ResourcePath> parse_resource_path(std::string_view path) {
  auto segments = split_path(path);
  if (segments.empty() || segments.back().empty()) return std::nullopt;
  auto n = segments.size();
  if (!is_id_segment(segments[n - 1])) {
    if (n >= 3 && is_id_segment(segments[n - 2]) && !is_id_segment(segments[n - 3]))
      return ResourcePath{join(segments, n - 2), std::string(segments[n - 2]), std::string(segments[n - 1])};
    return ResourcePath{join(segments, n), {}, {}};
  }
  if (n >= 2 && !is_id_segment(segments[n - 2])) return ResourcePath{join(segments, n - 1), std::string(segments[n - 1]), {}};
  return std::nullopt;
}

const Statechart::Edge* Statechart::find(std::string_view from, std::string_view action) const noexcept {
  for (const auto& edge : edges)
    if (edge.from == from && edge.action == action) return &edge;
  return nullptr;
}

bool Statechart::knows(std::string_view action) const noexcept {
  return std::any_of(edges.begin(), edges.end(), [&](const Edge& e) { return e.action == action; });
}

std::vector<std::string_view> Statechart::allowed(std::string_view from) const {
  std::vector<std::string_view> actions;
  for (const auto& edge : edges)
    if (edge.from == from && std::find(actions.begin(), actions.end(), edge.action) == actions.end())
      actions.push_back(edge.action);
  return actions;
}

const Statechart* statechart_for(std::string_view collection) {
  auto slash = collection.rfind('/');
  auto name = slash == std::string_view::npos ? collection : collection.substr(slash + 1);
  if (name.size() > 1 && name.back() == 's') name.remove_suffix(1);
  for (const auto& chart : bundled_charts())
    if (chart.name == name) return &chart;
  return nullptr;
}

std::string_view status_field(const nlohmann::ordered_json& resource) {
  if (resource.is_object() && !resource.contains("status") && resource.contains("state")) return "state";
  return "status";
}

std::optional<nlohmann::ordered_json> parse_object(std::string_view text) {
  if (!looks_like_json(text)) return std::nullopt;
  auto parsed = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

bool body_is_editable(const record::Response& response) {
  const auto* encoding = record::find_header(response.headers, "Content-Encoding");
  return !encoding || encoding->empty() || util::iequals(*encoding, "identity");
}

std::string id_text(const nlohmann::ordered_json& id) { return id.is_string() ? id.get<std::string>() : id.dump(); }

std::shared_ptr<const ResourceRef> resource_ref(std::string_view method, std::string_view path,
                                                std::string_view request_body, const record::Response& response) {
  using Kind = ResourceRef::Kind;
  auto target = parse_resource_path(path);
  if (!target) return nullptr;
  bool ok = response.status / 100 == 2;
  auto ref = std::make_shared<ResourceRef>();
  auto answer = [&]() -> std::optional<nlohmann::ordered_json> {
    if (!ok || !body_is_editable(response)) return std::nullopt;
    return parse_object(response.body);
  };
  auto names_target = [&](const nlohmann::ordered_json& object) {
    auto id = object.find("id");
    return id == object.end() || ((id->is_string() || id->is_number_integer()) && id_text(*id) == target->id);
  };
  // The status an action left the resource in, from its answer when that is the resource.
  auto action_result = [&]() -> std::shared_ptr<const ResourceRef> {
    auto object = answer();
    if (!object || !names_target(*object)) return nullptr;
    auto field = std::string(status_field(*object));
    if (!object->contains(field) || !(*object)[field].is_string()) return nullptr;
    ref->kind = Kind::change;
    ref->collection = target->collection;
    ref->id = target->id;
    ref->fields = {{field, (*object)[field]}};
    return ref;
  };

  if (method == "POST") {
    auto segments = split_path(path);
    if (!target->id.empty() && !target->action.empty())
      if (auto changed = action_result()) return changed;
    // A creation (as on the library's create tier): POST on a path ending in a word, answered with an id.
    if (segments.empty() || segments.back().empty() || is_id_segment(segments.back())) return nullptr;
    auto object = answer();
    if (!object) return nullptr;
    auto id = object->find("id");
    if (id == object->end() || !(id->is_string() || id->is_number_integer())) return nullptr;
    ref->kind = Kind::create;
    ref->collection = std::string(path);
    ref->id = id_text(*id);
    ref->fields = std::move(*object);
    return ref;
  }
  if (target->id.empty() || !target->action.empty()) return nullptr;
  ref->collection = target->collection;
  ref->id = target->id;
  if (method == "GET" || !ok) return ref; // a read, or a refused change: the resource as it is
  if (method == "DELETE") {
    ref->kind = Kind::remove;
    return ref;
  }
  if (method == "PUT" || method == "PATCH") {
    auto fields = parse_object(request_body);
    if (!fields) return ref;
    const auto* chart = statechart_for(target->collection);
    auto action = fields->find("action");
    if (method == "PATCH" && chart && fields->size() == 1 && action != fields->end() && action->is_string() &&
        chart->knows(action->get<std::string>())) {
      if (auto changed = action_result()) return changed;
      return ref;
    }
    fields->erase("id");
    ref->kind = Kind::change;
    ref->fields = std::move(*fields);
    return ref;
  }
  return nullptr;
}

nlohmann::ordered_json ResourceStore::Entry::view(nlohmann::ordered_json recorded, Seq seq) const {
  if (replaced && seq < *replaced) return resource;
  for (const auto& field : changed) {
    if (field.seq <= seq) continue;
    if (field.removed) recorded.erase(field.name);
    else recorded[field.name] = field.value;
  }
  return recorded;
}

ResourceStore::Lookup ResourceStore::find(std::string_view collection, std::string_view id,
                                          const nlohmann::ordered_json*& resource) const {
  const Entry* found = entry(collection, id);
  if (!found) return Lookup::absent;
  if (found->deleted) return Lookup::deleted;
  resource = &found->resource;
  return Lookup::present;
}

const ResourceStore::Entry* ResourceStore::entry(std::string_view collection, std::string_view id) const {
  auto c = collections_.find(std::string(collection));
  if (c == collections_.end()) return nullptr;
  auto item = c->second.items.find(std::string(id));
  return item == c->second.items.end() ? nullptr : &item->second;
}

ResourceStore::Entry& ResourceStore::entry_for(std::string_view collection, std::string_view id) {
  note_id(collection, id);
  return collections_[std::string(collection)].items[std::string(id)];
}

void ResourceStore::put(std::string_view collection, std::string_view id, nlohmann::ordered_json resource) {
  entry_for(collection, id) = Entry{std::move(resource), {}, std::nullopt, std::nullopt};
}

void ResourceStore::change(std::string_view collection, std::string_view id, const nlohmann::ordered_json& patch, Seq seq) {
  if (!patch.is_object()) return;
  Entry& entry = entry_for(collection, id);
  if (!entry.resource.is_object()) entry.resource = nlohmann::ordered_json::object();
  entry.resource.merge_patch(patch);
  for (const auto& [name, value] : patch.items()) {
    auto now = entry.resource.find(name);
    bool removed = now == entry.resource.end();
    auto field = std::find_if(entry.changed.begin(), entry.changed.end(), [&](const Entry::Field& f) { return f.name == name; });
    if (field == entry.changed.end()) field = entry.changed.insert(entry.changed.end(), Entry::Field{name, {}, false, 0});
    field->value = removed ? nlohmann::ordered_json() : *now;
    field->removed = removed;
    field->seq = seq;
  }
  changes_ = true;
}

void ResourceStore::replace(std::string_view collection, std::string_view id, nlohmann::ordered_json resource, Seq seq) {
  Entry& entry = entry_for(collection, id);
  entry.resource = std::move(resource);
  entry.replaced = seq;
  entry.deleted.reset();
  changes_ = true;
}

void ResourceStore::erase(std::string_view collection, std::string_view id, Seq seq) {
  entry_for(collection, id).deleted = seq;
  changes_ = true;
}

void ResourceStore::note_id(std::string_view collection, std::string_view id) {
  auto& c = collections_[std::string(collection)];
  if (auto number = as_integer(id)) c.highest = std::max(c.highest, *number);
}

std::string ResourceStore::next_id(std::string_view collection, const nlohmann::ordered_json& example) {
  auto& c = collections_[std::string(collection)];
  std::string text = example.is_string() ? example.get<std::string>() : example.dump();
  if (example.is_number_integer() || as_integer(text)) {
    c.highest = std::max(c.highest, as_integer(text).value_or(0)) + 1;
    return std::to_string(c.highest);
  }
  // Keep the shape (prefix, separators, length, hex or not) with fresh random characters, so
  // the id stays recognisable as one; retry in the unlikely case it is taken.
  static constexpr std::string_view kAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  auto sep = text.find('_');
  std::size_t start = sep == std::string::npos ? 0 : sep + 1;
  bool hex = text.find_first_not_of("0123456789abcdefABCDEF-", start) == std::string::npos;
  std::uniform_int_distribution<std::size_t> pick(0, hex ? 15 : 35);
  do {
    for (std::size_t i = start; i < text.size(); ++i)
      if (text[i] != '-') text[i] = kAlphabet[pick(random_)];
  } while (c.items.count(text));
  return text;
}

} // namespace gostly::match
