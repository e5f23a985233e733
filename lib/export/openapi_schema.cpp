#include "export/openapi_schema.hpp"

#include <algorithm>
#include <charconv>

namespace gostly::export_ {
namespace {

using drift::JsonType;
using drift::StringFormat;

constexpr std::string_view kDataKey = "{key}";

std::size_t index(JsonType type) noexcept { return static_cast<std::size_t>(type); }

void add_enum_value(SchemaNode& node, const std::string& text) {
  if (node.enum_overflow) return;
  auto it = std::lower_bound(node.enum_values.begin(), node.enum_values.end(), text);
  if (it != node.enum_values.end() && *it == text) return;
  if (text.size() > kMaxEnumLength || node.enum_values.size() >= kMaxEnumValues) {
    node.enum_overflow = true;
    node.enum_values.clear();
    node.enum_values.shrink_to_fit();
    return;
  }
  node.enum_values.insert(it, text);
}

} // namespace

std::string_view openapi_format(StringFormat format) noexcept {
  switch (format) {
  case StringFormat::uuid: return "uuid";
  case StringFormat::iso_datetime: return "date-time";
  case StringFormat::date: return "date";
  case StringFormat::url: return "uri";
  case StringFormat::email: return "email";
  case StringFormat::ipv4: return "ipv4";
  default: return {}; // phone, numeric_string, text, datetime_local: no JSON Schema format says it
  }
}

nlohmann::json typed_value(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  if (drift::classify_string(text) == StringFormat::numeric_string) {
    bool negative = text[0] == '-';
    auto digits = text.substr(negative ? 1 : 0);
    if (digits.size() > 1 && digits[0] == '0' && digits[1] != '.') return std::string(text); // 007: a code, not a number
    if (text.find('.') == std::string_view::npos) {
      std::int64_t value = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error == std::errc{} && end == text.data() + text.size()) return value;
    } else {
      double value = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error == std::errc{} && end == text.data() + text.size()) return value;
    }
  }
  return std::string(text);
}

SchemaNode::SchemaNode(const SchemaNode& other)
    : stats(other.stats), enum_values(other.enum_values), enum_overflow(other.enum_overflow) {
  for (const auto& [key, node] : other.properties) properties.emplace(key, std::make_unique<SchemaNode>(*node));
  if (other.items) items = std::make_unique<SchemaNode>(*other.items);
}

SchemaNode& SchemaNode::operator=(const SchemaNode& other) {
  if (this != &other) *this = SchemaNode(other);
  return *this;
}

SchemaNode* SchemaTree::child(std::unique_ptr<SchemaNode>& slot) {
  if (slot) return slot.get();
  if (nodes_ >= limits_.max_fields) {
    ++fields_dropped_;
    return nullptr;
  }
  ++nodes_;
  slot = std::make_unique<SchemaNode>();
  return slot.get();
}

void SchemaTree::add(const nlohmann::json& value) { observe(root_, value, 0); }

void SchemaTree::observe(SchemaNode& node, const nlohmann::json& value, std::size_t depth) {
  auto& stats = node.stats;
  ++stats.present;
  JsonType type = drift::type_of(value);
  ++stats.types[index(type)];
  if (type == JsonType::string) {
    const auto& text = value.get_ref<const std::string&>();
    auto format = drift::classify_string(text);
    ++stats.formats[static_cast<std::size_t>(format)];
    if (limits_.enums && format == StringFormat::text) add_enum_value(node, text);
    else if (format != StringFormat::text) node.enum_overflow = true; // formatted values are data, not choices
    return;
  }
  if (type != JsonType::object && type != JsonType::array) return;
  if (depth + 1 >= limits_.max_depth) { // as drift: nesting past GOSTLY_DRIFT_MAX_DEPTH is counted, not followed
    if (!value.empty()) ++depth_cut_;
    return;
  }
  if (type == JsonType::object) {
    for (const auto& [raw_key, item] : value.items()) {
      // Keys that are data (ids, dates, emails) fold into one `{key}` entry: additionalProperties.
      std::string key(drift::field_key(raw_key));
      auto it = node.properties.find(key);
      SchemaNode* target = it != node.properties.end() ? it->second.get() : child(node.properties[key]);
      if (!target) {
        node.properties.erase(key);
        continue;
      }
      observe(*target, item, depth + 1);
    }
  } else {
    for (const auto& item : value) {
      SchemaNode* target = child(node.items);
      if (!target) break;
      observe(*target, item, depth + 1);
    }
  }
}

void SchemaTree::merge(const SchemaTree& other) {
  merge_node(root_, other.root_);
  fields_dropped_ += other.fields_dropped_;
  depth_cut_ += other.depth_cut_;
}

void SchemaTree::merge_node(SchemaNode& into, const SchemaNode& from) {
  into.stats.merge(from.stats);
  if (from.enum_overflow) {
    into.enum_overflow = true;
    into.enum_values.clear();
  } else {
    for (const auto& value : from.enum_values) add_enum_value(into, value);
  }
  for (const auto& [key, node] : from.properties) {
    auto it = into.properties.find(key);
    SchemaNode* target = it != into.properties.end() ? it->second.get() : child(into.properties[key]);
    if (!target) {
      into.properties.erase(key);
      continue;
    }
    merge_node(*target, *node);
  }
  if (from.items)
    if (SchemaNode* target = child(into.items)) merge_node(*target, *from.items);
}

OrderedJson SchemaNode::schema(const SchemaLimits& limits) const {
  OrderedJson out = OrderedJson::object();
  auto counts = stats.types;
  const std::uint64_t nulls = counts[index(JsonType::null)];
  // 10 and 10.5 in one field: a number (as drift's dominant_type folds them).
  if (counts[index(JsonType::number)] > 0) {
    counts[index(JsonType::number)] += counts[index(JsonType::integer)];
    counts[index(JsonType::integer)] = 0;
  }
  std::vector<std::string> types;
  for (JsonType type : {JsonType::object, JsonType::array, JsonType::string, JsonType::integer, JsonType::number,
                        JsonType::boolean})
    if (counts[index(type)] > 0) types.emplace_back(drift::to_string(type));
  if (nulls > 0) types.emplace_back("null"); // 3.1: nullable is a "null" type, not `nullable: true`
  if (types.empty()) return out;               // never seen: any value
  if (types.size() == 1) out["type"] = types.front();
  else out["type"] = types;

  const std::uint64_t strings = counts[index(JsonType::string)];
  if (strings > 0) {
    for (std::size_t f = 0; f < drift::kStringFormats; ++f)
      if (stats.formats[f] == strings) { // a format only when every string had it
        auto format = openapi_format(static_cast<StringFormat>(f));
        if (!format.empty()) out["format"] = format;
      }
    auto distinct = enum_values.size();
    bool low = drift::cardinality_bucket(distinct, strings) <= drift::Cardinality::low;
    bool repeated = strings >= 2 * distinct && (distinct > 1 || strings >= kMinSingletonEnumSamples);
    if (limits.enums && !enum_overflow && distinct > 0 && low && repeated) {
      OrderedJson values = OrderedJson::array();
      for (const auto& value : enum_values) values.push_back(value);
      if (nulls > 0) values.push_back(nullptr); // else the enum would reject the nulls `type` allows
      out["enum"] = std::move(values);
    }
  }

  const std::uint64_t objects = counts[index(JsonType::object)];
  if (objects > 0) {
    OrderedJson props = OrderedJson::object();
    OrderedJson required = OrderedJson::array();
    const SchemaNode* data_keyed = nullptr;
    for (const auto& [key, node] : properties) { // std::map: sorted, so the output is deterministic
      if (key == kDataKey) {
        data_keyed = node.get();
        continue;
      }
      props[key] = node->schema(limits);
      if (node->stats.present == objects) required.push_back(key); // present every time its parent was
    }
    if (!props.empty()) out["properties"] = std::move(props);
    if (!required.empty()) out["required"] = std::move(required);
    if (data_keyed) out["additionalProperties"] = data_keyed->schema(limits);
  }
  if (counts[index(JsonType::array)] > 0 && items) out["items"] = items->schema(limits);
  return out;
}

} // namespace gostly::export_
