#include "export/openapi_infer.hpp"

#include "bundle/pii.hpp"
#include "drift/route.hpp"
#include "record/body_encoding.hpp"
#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/limits.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ostream>

namespace gostly::export_ {
namespace {

constexpr std::array<std::string_view, 8> kMethods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// `application/json; charset=utf-8` -> `application/json`.
std::string media_type(const record::Headers& headers) {
  const std::string* value = record::find_header(headers, "Content-Type");
  if (!value) return {};
  return lower(trim(std::string_view(*value).substr(0, value->find(';'))));
}

bool json_media(std::string_view type) {
  return type.empty() || type == "application/json" || (type.size() > 5 && type.substr(type.size() - 5) == "+json") ||
         type.find("/json") != std::string_view::npos;
}

// Path split on '/', the leading slash dropped: `/a/b` -> {"a", "b"} (as template_path keeps them).
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// A parameter's first value as its example, scrubbed of PII as body examples are.
nlohmann::json parameter_example(std::string_view text) {
  auto value = typed_value(text);
  if (!value.is_string()) return value;
  bundle::ScrubCounts counts;
  return bundle::scrub_text(value.get_ref<const std::string&>(), counts);
}

template <typename T>
void merge_example(std::optional<T>& into, const std::optional<T>& from) {
  if (!into && from) into = from;
}

std::string capitalized(std::string_view word) {
  std::string out;
  bool upper = true;
  for (char c : word) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      upper = true;
      continue;
    }
    out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    upper = false;
  }
  return out;
}

} // namespace

void MediaAggregate::merge(const MediaAggregate& other) {
  samples += other.samples;
  json += other.json;
  text += other.text;
  binary += other.binary;
  tree.merge(other.tree);
  merge_example(example, other.example);
}

void BodyAggregate::merge(const BodyAggregate& other) {
  samples += other.samples;
  media_dropped += other.media_dropped;
  for (const auto& [type, aggregate] : other.media) {
    auto it = media.find(type);
    if (it != media.end()) it->second.merge(aggregate);
    else if (media.size() < kMaxMediaTypes) media.emplace(type, aggregate);
    else media_dropped += aggregate.samples;
  }
}

void OperationAggregate::merge(const OperationAggregate& other) {
  samples += other.samples;
  query_dropped += other.query_dropped;
  auto merge_params = [](auto& into, const auto& from) {
    for (const auto& [key, param] : from) {
      auto it = into.find(key);
      if (it == into.end()) {
        into.emplace(key, param);
        continue;
      }
      it->second.present += param.present;
      it->second.values.merge(param.values);
      merge_example(it->second.example, param.example);
    }
  };
  merge_params(query, other.query);
  merge_params(path, other.path);
  request.merge(other.request);
  for (const auto& [status, response] : other.responses) {
    auto& into = responses[status];
    into.samples += response.samples;
    if (into.reason.empty()) into.reason = response.reason;
    into.body.merge(response.body);
  }
}

OpenApiBuilder::OpenApiBuilder(InferOptions options) : options_(std::move(options)) {}

template <typename Visit>
void OpenApiBuilder::for_each_tree(Visit visit) const {
  for (const auto& entry : operations_) {
    for (const auto& media : entry.second.request.media) visit(media.second.tree);
    for (const auto& response : entry.second.responses)
      for (const auto& media : response.second.body.media) visit(media.second.tree);
  }
}

std::uint64_t OpenApiBuilder::fields_dropped() const {
  std::uint64_t n = 0;
  for_each_tree([&](const SchemaTree& tree) { n += tree.fields_dropped(); });
  return n;
}

std::uint64_t OpenApiBuilder::depth_cut() const {
  std::uint64_t n = 0;
  for_each_tree([&](const SchemaTree& tree) { n += tree.depth_cut(); });
  return n;
}

void OpenApiBuilder::add(const record::Interaction& interaction) {
  ++interactions_;
  const auto& request = interaction.request;
  std::string method = lower(request.method);
  if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end()) { // CONNECT, PROPFIND: not in 3.1
    ++methods_skipped_;
    return;
  }
  if (!request.host.empty() && servers_.size() < kMaxServers)
    servers_.insert((request.scheme.empty() ? std::string("http") : request.scheme) + "://" + request.host);

  std::string_view path = record::uri_path(request.uri);
  Key key{drift::template_path(path), method};
  auto it = operations_.find(key);
  if (it == operations_.end()) {
    if (operations_.size() >= options_.max_routes)
      throw util::LimitError("more than " + std::to_string(options_.max_routes) +
                             " routes (method and path template); raise GOSTLY_EXPORT_MAX_ROUTES to export them");
    it = operations_.emplace(std::move(key), OperationAggregate{}).first;
  }
  OperationAggregate& op = it->second;
  ++op.samples;

  // Path parameters: the concrete segment under each `{id}` of the template.
  SchemaLimits param_limits = options_.limits;
  param_limits.enums = false; // an id is never a choice among a few values
  auto concrete = segments(path);
  auto templated = segments(it->first.first);
  for (std::size_t i = 0; i < templated.size() && i < concrete.size(); ++i) {
    if (templated[i] != "{id}") continue;
    auto [param, _] = op.path.try_emplace(i, param_limits);
    ++param->second.present;
    param->second.values.add(typed_value(concrete[i]));
    if (!param->second.example) param->second.example = parameter_example(concrete[i]);
  }

  // Query parameters, by name; a name counted once per request (`?tag=a&tag=b` is one presence).
  std::string_view query = record::uri_query(request.uri);
  std::set<std::string> seen;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string name(pair.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    auto param = op.query.find(name);
    if (param == op.query.end()) {
      if (op.query.size() >= kMaxQueryParams) {
        ++op.query_dropped;
        continue;
      }
      param = op.query.emplace(name, ParameterAggregate(options_.limits)).first;
    }
    if (seen.insert(name).second) ++param->second.present;
    param->second.values.add(typed_value(value));
    if (!param->second.example) param->second.example = parameter_example(value);
  }

  add_body(op.request, request.headers, request.body, true);
  auto& response = op.responses[interaction.response.status];
  ++response.samples;
  if (response.reason.empty()) response.reason = interaction.response.reason;
  add_body(response.body, interaction.response.headers, interaction.response.body, false);
}

void OpenApiBuilder::add_body(BodyAggregate& body, const record::Headers& headers, const std::string& raw, bool) {
  if (raw.empty()) return;
  ++body.samples;
  // Bodies as the client read them: Content-Encoding undone first, as the drift fingerprints do.
  std::string decoded;
  const std::string* bytes = &raw;
  if (const std::string* coding = record::find_header(headers, "Content-Encoding"); coding && record::is_encoded(*coding)) {
    try {
      decoded = record::decode_content(raw, *coding);
      bytes = &decoded;
    } catch (const Error&) { // BodyEncodingError, util::LimitError: no schema from this body
      ++undecodable_;
      return;
    }
  }
  std::string type = media_type(headers);
  std::optional<nlohmann::json> parsed;
  if (json_media(type)) {
    try {
      parsed = util::parse_json(*bytes);
    } catch (const std::exception&) { // bad syntax or past the nesting limit: a text body then
    }
  }
  const bool text = util::is_valid_utf8(*bytes);
  if (type.empty()) type = parsed ? "application/json" : text ? "text/plain" : "application/octet-stream";
  auto media = body.media.find(type);
  if (media == body.media.end()) {
    if (body.media.size() >= kMaxMediaTypes) {
      ++body.media_dropped;
      return;
    }
    media = body.media.emplace(type, MediaAggregate(options_.limits)).first;
  }
  auto& aggregate = media->second;
  ++aggregate.samples;
  const bool want_example = !aggregate.example && bytes->size() <= kMaxExampleBytes;
  if (parsed) {
    ++aggregate.json;
    aggregate.tree.add(*parsed);
    if (want_example) {
      // Scrubbed as bundles are: placeholders keep the JSON valid (pii.hpp), checked anyway.
      bundle::ScrubCounts counts;
      auto scrubbed = bundle::scrub_text(*bytes, counts);
      try {
        aggregate.example = util::parse_json(scrubbed);
      } catch (const std::exception&) {
      }
    }
  } else if (text) {
    ++aggregate.text;
    if (want_example) {
      bundle::ScrubCounts counts;
      aggregate.example = bundle::scrub_text(*bytes, counts);
    }
  } else {
    ++aggregate.binary;
  }
}

void OpenApiBuilder::learn_templates() {
  std::map<std::string, unsigned> routes;
  for (const auto& [key, _] : operations_) routes[key.first] = 3u; // one recording: "seen in both"
  auto renamed = drift::learn_templates(routes);
  if (renamed.empty()) return;
  std::map<Key, OperationAggregate> out;
  SchemaLimits param_limits = options_.limits;
  param_limits.enums = false;
  for (auto& [key, op] : operations_) {
    auto it = renamed.find(key.first);
    if (it == renamed.end()) {
      auto [slot, inserted] = out.try_emplace(key);
      if (inserted) slot->second = std::move(op);
      else slot->second.merge(op);
      continue;
    }
    // Segments that became `{id}` only now are path parameters whose one value is the literal.
    auto before = segments(key.first);
    auto after = segments(it->second);
    for (std::size_t i = 0; i < after.size() && i < before.size(); ++i) {
      if (after[i] != "{id}" || before[i] == "{id}") continue;
      auto [param, _] = op.path.try_emplace(i, param_limits);
      param->second.present += op.samples;
      param->second.values.add(typed_value(before[i]));
      if (!param->second.example) param->second.example = parameter_example(before[i]);
    }
    Key renamed_key{it->second, key.second};
    auto [slot, inserted] = out.try_emplace(renamed_key);
    if (inserted) slot->second = std::move(op);
    else slot->second.merge(op);
  }
  operations_ = std::move(out);
}

OrderedJson OpenApiBuilder::body_content(const BodyAggregate& body) const {
  OrderedJson content = OrderedJson::object();
  for (const auto& [type, media] : body.media) {
    OrderedJson entry = OrderedJson::object();
    if (media.json > 0) entry["schema"] = media.tree.schema();
    else if (media.text > 0) entry["schema"] = OrderedJson{{"type", "string"}};
    else entry["schema"] = OrderedJson{{"type", "string"}, {"format", "binary"}};
    if (media.example) entry["example"] = OrderedJson::parse(media.example->dump());
    content[type] = std::move(entry);
  }
  return content;
}

std::string operation_id(std::string_view method, std::string_view path) {
  std::string out = lower(method);
  bool any = false;
  for (auto segment : segments(path)) {
    if (segment.empty()) continue;
    any = true;
    if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}')
      out += "By" + capitalized(segment.substr(1, segment.size() - 2));
    else out += capitalized(segment);
  }
  if (!any) out += "Root";
  return out;
}

OrderedJson OpenApiBuilder::document() {
  learn_templates();
  OrderedJson doc = OrderedJson::object();
  doc["openapi"] = "3.1.0";
  doc["info"] = OrderedJson{{"title", options_.title},
                            {"version", options_.version},
                            {"description", "Inferred by gostly-export from " + std::to_string(interactions_) +
                                                " recorded interactions; examples are scrubbed of PII."}};
  if (!servers_.empty()) {
    OrderedJson servers = OrderedJson::array();
    for (const auto& url : servers_) servers.push_back(OrderedJson{{"url", url}});
    doc["servers"] = std::move(servers);
  }
  OrderedJson paths = OrderedJson::object();
  std::set<std::string> operation_ids;
  for (const auto& [key, op] : operations_) {
    const auto& [templated, method] = key;
    // Every `{id}` gets its own name (`id`, `id2`, ...): a path's parameter names must be unique.
    std::string path;
    std::vector<std::pair<std::size_t, std::string>> names; // segment index, name
    auto parts = segments(templated);
    for (std::size_t i = 0; i < parts.size(); ++i) {
      path += '/';
      if (parts[i] == "{id}") {
        std::string name = names.empty() ? "id" : "id" + std::to_string(names.size() + 1);
        names.emplace_back(i, name);
        path += "{" + name + "}";
      } else {
        path += parts[i];
      }
    }
    OrderedJson operation = OrderedJson::object();
    std::string id = operation_id(method, path);
    for (int n = 2; !operation_ids.insert(id).second; ++n) id = operation_id(method, path) + std::to_string(n);
    operation["operationId"] = id;
    std::string verb = method;
    std::transform(verb.begin(), verb.end(), verb.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    operation["summary"] = verb + " " + path;
    OrderedJson parameters = OrderedJson::array();
    for (const auto& [index, name] : names) {
      OrderedJson param{{"name", name}, {"in", "path"}, {"required", true}};
      auto found = op.path.find(index);
      param["schema"] = found != op.path.end() ? found->second.values.schema() : OrderedJson{{"type", "string"}};
      if (found != op.path.end() && found->second.example) param["example"] = OrderedJson::parse(found->second.example->dump());
      parameters.push_back(std::move(param));
    }
    for (const auto& [name, aggregate] : op.query) {
      OrderedJson param{{"name", name}, {"in", "query"}, {"required", aggregate.present == op.samples}};
      param["schema"] = aggregate.values.schema();
      // The first recorded value: what gostly-seed openapi puts in the URI it seeds.
      if (aggregate.example) param["example"] = OrderedJson::parse(aggregate.example->dump());
      parameters.push_back(std::move(param));
    }
    if (!parameters.empty()) operation["parameters"] = std::move(parameters);
    if (op.request.samples > 0 && !op.request.media.empty())
      operation["requestBody"] = OrderedJson{{"required", op.request.samples == op.samples}, {"content", body_content(op.request)}};
    OrderedJson responses = OrderedJson::object();
    for (const auto& [status, response] : op.responses) {
      if (status < 100 || status > 599) continue;
      std::string description(record::reason_phrase(status));
      if (description.empty()) description = response.reason;
      if (description.empty()) description = "Status " + std::to_string(status);
      OrderedJson entry{{"description", description}};
      if (!response.body.media.empty()) entry["content"] = body_content(response.body);
      responses[std::to_string(status)] = std::move(entry);
    }
    if (responses.empty()) responses["default"] = OrderedJson{{"description", "No response recorded"}};
    operation["responses"] = std::move(responses);
    operation["x-gostly-samples"] = op.samples;
    paths[path][method] = std::move(operation);
  }
  doc["paths"] = std::move(paths);
  return doc;
}

namespace {

// Plain YAML scalars that a YAML 1.1 or 1.2 reader would type as something other than a string:
// numbers (`200`, `1.5`, `.inf`), booleans (`true`, `yes`, `on`), null (`null`, `~`).
bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  char c = s.front();
  if (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.') return true;
  static constexpr std::array<std::string_view, 14> words = {"true", "false", "yes", "no", "on", "off", "y",
                                                             "n", "null", "~", "nan", "inf", "none", "="};
  auto low = lower(s);
  return std::find(words.begin(), words.end(), low) != words.end();
}

void emit_string(YAML::Emitter& out, const std::string& s) {
  if (needs_quotes(s)) out << YAML::DoubleQuoted;
  out << s;
}

void emit(YAML::Emitter& out, const OrderedJson& value) {
  switch (value.type()) {
  case OrderedJson::value_t::object:
    if (value.empty()) {
      out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
      return;
    }
    out << YAML::BeginMap;
    for (const auto& [key, item] : value.items()) {
      out << YAML::Key;
      emit_string(out, key);
      out << YAML::Value;
      emit(out, item);
    }
    out << YAML::EndMap;
    return;
  case OrderedJson::value_t::array:
    if (value.empty()) {
      out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
      return;
    }
    out << YAML::BeginSeq;
    for (const auto& item : value) emit(out, item);
    out << YAML::EndSeq;
    return;
  case OrderedJson::value_t::string: emit_string(out, value.get_ref<const std::string&>()); return;
  case OrderedJson::value_t::null: out << YAML::Null; return;
  case OrderedJson::value_t::boolean: out << (value.get<bool>() ? "true" : "false"); return;
  default: out << value.dump(); return; // numbers exactly as JSON writes them (a valid YAML number)
  }
}

} // namespace

void emit_yaml(const OrderedJson& doc, std::ostream& out) {
  YAML::Emitter emitter;
  emitter.SetIndent(2);
  emit(emitter, doc);
  if (!emitter.good()) throw Error("YAML emitter: " + emitter.GetLastError());
  out << emitter.c_str() << '\n';
}

} // namespace gostly::export_
