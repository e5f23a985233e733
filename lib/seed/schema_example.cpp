#include "seed/schema_example.hpp"

#include "seed/common.hpp"
#include "util/limits.hpp"

#include <algorithm>
#include <cmath>

namespace gostly::seed {

using Json = nlohmann::ordered_json;

namespace {

constexpr int kMaxDepth = 12;

std::string schema_type(const Json& schema) {
  auto type = schema.find("type");
  if (type != schema.end()) {
    if (type->is_string()) return type->get<std::string>();
    if (type->is_array()) // 3.1: ["string", "null"] -> the first non-null type
      for (const auto& t : *type)
        if (t.is_string() && t != "null") return t.get<std::string>();
    if (type->is_array() && !type->empty()) return "null";
  }
  if (schema.contains("properties") || schema.contains("additionalProperties")) return "object";
  if (schema.contains("items")) return "array";
  return {};
}

Json string_for_format(const std::string& format) {
  if (format == "date-time") return "2024-01-01T00:00:00Z";
  if (format == "date") return "2024-01-01";
  if (format == "time") return "00:00:00Z";
  if (format == "email") return "user@example.com";
  if (format == "uuid") return "00000000-0000-4000-8000-000000000001";
  if (format == "uri" || format == "url" || format == "iri") return "https://example.com/";
  if (format == "hostname") return "example.com";
  if (format == "ipv4") return "192.0.2.1";
  if (format == "ipv6") return "2001:db8::1";
  if (format == "byte") return "ZXhhbXBsZQ==";
  if (format == "binary") return "";
  if (format == "password") return "********";
  return nullptr;
}

Json number_within(const Json& schema, bool integer) {
  // 1 rather than 0 so ids look like ids (smart_swap templates numeric path segments).
  double value = 1;
  if (auto min = schema.find("minimum"); min != schema.end() && min->is_number()) {
    value = min->get<double>();
    if (auto ex = schema.find("exclusiveMinimum"); ex != schema.end() && ex->is_boolean() && ex->get<bool>()) value += 1;
  }
  if (auto ex = schema.find("exclusiveMinimum"); ex != schema.end() && ex->is_number()) value = ex->get<double>() + 1;
  if (auto max = schema.find("maximum"); max != schema.end() && max->is_number() && value > max->get<double>())
    value = max->get<double>();
  if (auto ex = schema.find("exclusiveMaximum"); ex != schema.end() && ex->is_number() && value >= ex->get<double>())
    value = ex->get<double>() - 1;
  // The first multiple at or above the value (below the maximum when that one is past it).
  if (auto step = schema.find("multipleOf"); step != schema.end() && step->is_number() && step->get<double>() > 0) {
    double m = step->get<double>();
    double up = std::ceil(value / m - 1e-9) * m;
    auto max = schema.find("maximum");
    value = max != schema.end() && max->is_number() && up > max->get<double>() ? std::floor(max->get<double>() / m + 1e-9) * m : up;
  }
  if (integer || value == static_cast<double>(static_cast<long long>(value))) return static_cast<long long>(value);
  return value;
}

// What copying `value` costs: one per value, strings one more per 64 bytes. Recursion follows
// the value's nesting, which parse_document bounded.
std::size_t weight(const Json& value) {
  switch (value.type()) {
  case Json::value_t::object: {
    std::size_t sum = 1;
    for (const auto& [key, item] : value.items()) sum += key.size() / 64 + weight(item);
    return sum;
  }
  case Json::value_t::array: {
    std::size_t sum = 1;
    for (const auto& item : value) sum += weight(item);
    return sum;
  }
  case Json::value_t::string: return 1 + value.get_ref<const std::string&>().size() / 64;
  default: return 1;
  }
}

} // namespace

SchemaExample::SchemaExample(const Json& document) : document_(document), work_limit_(work_limit()) {}

std::size_t SchemaExample::work_limit() { return util::limit_from_env("GOSTLY_MAX_SCHEMA_WORK", 500'000); }

void SchemaExample::spend(std::size_t units, const std::string& pointer) {
  if (units > work_limit_ - std::min(work_limit_, work_))
    throw LimitExceeded{short_pointer(pointer), "example synthesis needs more than " + std::to_string(work_limit_) +
                                                    " units of work for this document (limit GOSTLY_MAX_SCHEMA_WORK)"};
  work_ += units;
}

void SchemaExample::charge(const Json& value, const std::string& pointer) {
  if (!value.is_primitive()) spend(weight(value), pointer);
  else spend(value.is_string() ? 1 + value.get_ref<const std::string&>().size() / 64 : 1, pointer);
}

const Json& SchemaExample::resolve(const Json& node, std::string& pointer) const {
  const Json* current = &node;
  for (int hops = 0; current->is_object() && current->contains("$ref"); ++hops) {
    const Json& ref = (*current)["$ref"];
    if (!ref.is_string()) throw EntryError{pointer + "/$ref", "expected a string"};
    const std::string& target = ref.get_ref<const std::string&>();
    if (target.empty() || target.front() != '#')
      throw EntryError{pointer + "/$ref", "external reference not supported: " + target};
    if (hops > 32) throw EntryError{pointer + "/$ref", "reference chain too long: " + target};
    try {
      current = &document_.at(Json::json_pointer(target.substr(1)));
    } catch (const nlohmann::json::exception&) {
      throw EntryError{pointer + "/$ref", "unresolved reference " + target};
    }
    pointer = target.substr(1);
  }
  return *current;
}

Json SchemaExample::generate(const Json& schema, Direction direction, const std::string& pointer) {
  direction_ = direction;
  active_refs_.clear();
  auto value = build(schema, pointer, 0);
  return value ? std::move(*value) : Json(nullptr);
}

// `skip_all_of`: build the schema's own part beside its allOf (which the caller merges).
std::optional<Json> SchemaExample::build(const Json& schema, const std::string& pointer, int depth, bool skip_all_of) {
  spend(1, pointer);
  if (schema.is_boolean()) return schema.get<bool>() ? std::optional<Json>(Json::object()) : std::nullopt;
  if (!schema.is_object()) return Json(nullptr);
  if (depth > kMaxDepth) return std::nullopt;

  if (auto ref = schema.find("$ref"); ref != schema.end()) {
    std::string target = ref->is_string() ? ref->get<std::string>() : std::string();
    if (std::find(active_refs_.begin(), active_refs_.end(), target) != active_refs_.end()) return std::nullopt;
    std::string at = pointer;
    const Json& resolved = resolve(schema, at);
    active_refs_.push_back(target);
    auto value = build(resolved, at, depth + 1);
    active_refs_.pop_back();
    return value;
  }

  auto verbatim = [&](const Json& value) {
    charge(value, pointer);
    return std::optional<Json>(value);
  };
  if (auto example = schema.find("example"); example != schema.end()) return verbatim(*example);
  if (auto examples = schema.find("examples"); examples != schema.end() && examples->is_array() && !examples->empty())
    return verbatim(examples->front());
  if (auto constant = schema.find("const"); constant != schema.end()) return verbatim(*constant);
  if (auto def = schema.find("default"); def != schema.end()) return verbatim(*def);
  if (auto values = schema.find("enum"); values != schema.end() && values->is_array() && !values->empty())
    return verbatim(values->front());

  if (auto all = schema.find("allOf"); !skip_all_of && all != schema.end() && all->is_array()) {
    std::optional<Json> merged;
    for (std::size_t i = 0; i < all->size(); ++i) {
      auto part = build((*all)[i], pointer + "/allOf/" + std::to_string(i), depth + 1);
      if (!part) continue;
      if (merged && merged->is_object() && part->is_object()) {
        spend(part->size(), pointer); // a merge is work too: every property is looked up and copied
        merged->update(*part);
      }
      else merged = std::move(part);
    }
    if (schema.contains("properties") || schema.contains("type")) {
      auto own = build(schema, pointer, depth + 1, true);
      if (own && merged && merged->is_object() && own->is_object()) {
        spend(own->size(), pointer);
        merged->update(*own);
      }
      else if (own && !merged) merged = std::move(own);
    }
    return merged;
  }
  for (const char* choice : {"oneOf", "anyOf"}) {
    auto alternatives = schema.find(choice);
    if (alternatives == schema.end() || !alternatives->is_array()) continue;
    for (std::size_t i = 0; i < alternatives->size(); ++i) {
      const Json& alternative = (*alternatives)[i];
      if (alternative.is_object() && string_or_empty(alternative, "type") == "null") continue;
      auto value = build(alternative, pointer + "/" + choice + "/" + std::to_string(i), depth + 1);
      if (value) return value;
    }
    return Json(nullptr);
  }

  std::string type = schema_type(schema);
  if (type == "object") {
    Json object = Json::object();
    std::vector<std::string> required;
    if (auto req = schema.find("required"); req != schema.end() && req->is_array())
      for (const auto& name : *req)
        if (name.is_string()) required.push_back(name.get<std::string>());
    if (auto props = schema.find("properties"); props != schema.end() && props->is_object()) {
      for (const auto& [name, property] : props->items()) {
        if (property.is_object()) {
          bool read_only = flag(property, "readOnly");
          bool write_only = flag(property, "writeOnly");
          if ((direction_ == Direction::request && read_only) || (direction_ == Direction::response && write_only)) continue;
        }
        auto value = build(property, pointer + "/properties/" + pointer_token(name), depth + 1);
        bool is_required = std::find(required.begin(), required.end(), name) != required.end();
        if (value) object[name] = std::move(*value);
        else if (is_required) object[name] = property.is_object() && schema_type(property) == "array" ? Json::array() : Json(nullptr);
      }
    } else if (auto extra = schema.find("additionalProperties"); extra != schema.end() && extra->is_object()) {
      auto value = build(*extra, pointer + "/additionalProperties", depth + 1);
      if (value) object["key"] = std::move(*value);
    }
    return object;
  }
  if (type == "array") {
    Json array = Json::array();
    auto items = schema.find("items");
    if (items == schema.end()) return array;
    auto item = build(*items, pointer + "/items", depth + 1);
    if (!item) return array;
    long long count = 1;
    if (auto min = schema.find("minItems"); min != schema.end() && min->is_number_integer())
      count = std::clamp<long long>(min->get<long long>(), 1, 3);
    if (auto max = schema.find("maxItems"); max != schema.end() && max->is_number_integer() && max->get<long long>() < count)
      count = std::max<long long>(0, max->get<long long>());
    bool unique = schema.value("uniqueItems", false);
    if (count > 1) spend(weight(*item) * static_cast<std::size_t>(count - 1), pointer + "/items");
    for (long long i = 0; i < count; ++i) {
      // uniqueItems: later copies of a number or string are made distinct (1, 2, 3; "string",
      // "string1", ...); enums take their next values.
      Json copy = *item;
      if (unique && i > 0) {
        std::string at = pointer + "/items";
        const Json& item_schema = items->is_object() ? resolve(*items, at) : *items;
        auto values = item_schema.is_object() ? item_schema.find("enum") : item_schema.end();
        if (item_schema.is_object() && values != item_schema.end() && values->is_array() &&
            static_cast<long long>(values->size()) > i)
          copy = (*values)[static_cast<std::size_t>(i)];
        else if (copy.is_number_integer()) copy = copy.get<long long>() + i;
        else if (copy.is_number()) copy = copy.get<double>() + static_cast<double>(i);
        else if (copy.is_string()) copy = copy.get<std::string>() + std::to_string(i);
      }
      array.push_back(std::move(copy));
    }
    return array;
  }
  if (type == "string") {
    Json formatted = string_for_format(string_or_empty(schema, "format"));
    if (!formatted.is_null()) return formatted;
    std::string text = kPlainString;
    if (auto min = schema.find("minLength"); min != schema.end() && min->is_number_integer())
      while (static_cast<long long>(text.size()) < std::min<long long>(min->get<long long>(), 1024)) text += 'x';
    if (auto max = schema.find("maxLength"); max != schema.end() && max->is_number_integer() &&
                                                 static_cast<long long>(text.size()) > max->get<long long>())
      text.resize(static_cast<std::size_t>(std::max<long long>(0, max->get<long long>())));
    return Json(text);
  }
  if (type == "integer") return number_within(schema, true);
  if (type == "number") return number_within(schema, false);
  if (type == "boolean") return Json(true);
  if (type == "null") return Json(nullptr);
  return Json::object(); // no type: any value is valid, an empty object is the least surprising
}

} // namespace gostly::seed
