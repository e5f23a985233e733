#include "match/resources.hpp"

#include "match/smart_swap.hpp"

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

ResourceStore::Lookup ResourceStore::find(std::string_view collection, std::string_view id,
                                          const nlohmann::ordered_json*& resource) const {
  auto c = collections_.find(std::string(collection));
  if (c == collections_.end()) return Lookup::absent;
  auto item = c->second.items.find(std::string(id));
  if (item == c->second.items.end()) return Lookup::absent;
  if (!item->second) return Lookup::deleted;
  resource = &*item->second;
  return Lookup::present;
}

void ResourceStore::put(std::string_view collection, std::string_view id, nlohmann::ordered_json resource) {
  note_id(collection, id);
  collections_[std::string(collection)].items[std::string(id)] = std::move(resource);
}

void ResourceStore::erase(std::string_view collection, std::string_view id) {
  collections_[std::string(collection)].items[std::string(id)] = std::nullopt;
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
