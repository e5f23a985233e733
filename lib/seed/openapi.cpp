// OpenAPI 2.0 (Swagger), 3.0 and 3.1, JSON or YAML: one interaction per operation and documented
// response code.
//
// A spec describes templates (`/pets/{petId}`), a mock library needs concrete requests. Each path
// parameter gets its example, else its schema's example, enum or a type-driven value (integers
// become 1, uuids a fixed uuid), so `/pets/{petId}` is seeded as `/pets/1`, which gostly-serve's
// smart_swap tier generalises back to a template; the template itself travels in the record's
// `seed.path_template` field. Required query and header parameters are filled the same way.
//
// Response bodies come from `example`/`examples` (media-type level, then schema level), else
// from SchemaExample. Codes are emitted 2xx first, then ascending, because the mock index replays
// the recordings of one request key in order: the first answer a client sees is the success.
// `default` is used only when an operation documents nothing else (as 200).
//
// Seeded records carry no time of their own; they all get the epoch, which keeps output
// deterministic and makes any live recording of the same request newer, so it wins.
#include "seed/common.hpp"
#include "seed/schema_example.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <map>

namespace gostly::seed {
namespace {

using Json = nlohmann::ordered_json;
constexpr const char* kSeedEpoch = "1970-01-01T00:00:00.000Z";
constexpr std::array<const char*, 8> kMethods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

struct Base {
  std::string scheme = "http";
  std::string host;
  std::string path; // no trailing '/'
};

std::string dump(const Json& value) { return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

bool is_json_media(std::string_view media) {
  std::string lower = util::to_lower(media);
  return lower.find("json") != std::string::npos;
}

std::string text_of(const Json& value) { return value.is_string() ? value.get<std::string>() : dump(value); }

// The bytes of a body: strings are sent as they are unless the media type is JSON, where a string
// is a JSON string, except one that already holds a JSON document (specs often write examples
// as JSON text).
std::string body_bytes(const Json& value, std::string_view media) {
  if (!value.is_string()) return dump(value);
  const std::string& text = value.get_ref<const std::string&>();
  if (!is_json_media(media)) return text;
  auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text[first] == '{' || text[first] == '[') && nlohmann::json::accept(text)) return text;
  return dump(value);
}

std::string percent_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Base base_from_url(const std::string& url, const std::string& pointer) {
  Base base;
  SplitUrl split;
  if (!split_url(url, split)) {
    if (url.empty()) return base;
    throw EntryError{pointer, "not a URL: " + url};
  }
  if (!split.scheme.empty()) base.scheme = split.scheme;
  base.host = split.host;
  base.path = std::string(record::uri_path(split.uri));
  while (!base.path.empty() && base.path.back() == '/') base.path.pop_back();
  return base;
}

// `media` of a content map: JSON first (what clients of a JSON API send in Accept), then the first.
const Json* choose_media(const Json& content, std::string& media) {
  if (!content.is_object() || content.empty()) return nullptr;
  for (const auto& [name, value] : content.items())
    if (util::to_lower(name).rfind("application/json", 0) == 0) return media = name, &value;
  for (const auto& [name, value] : content.items())
    if (is_json_media(name)) return media = name, &value;
  media = content.begin().key();
  return &content.begin().value();
}

class OpenApiImporter {
public:
  OpenApiImporter(const Json& doc, ImportContext& context) : doc_(doc), context_(context), schemas_(doc) {}

  void run(std::vector<ImportContext::Pending>& out) {
    if (!doc_.is_object()) throw InputError(context_.source(), 0, "", "not an OpenAPI document: expected an object");
    if (auto swagger = doc_.find("swagger"); swagger != doc_.end()) {
      if (text_of(*swagger) != "2.0") throw InputError(context_.source(), 0, "/swagger", "unsupported version " + text_of(*swagger));
      v2_ = true;
    } else if (auto openapi = doc_.find("openapi"); openapi != doc_.end() && openapi->is_string() &&
                                                    openapi->get<std::string>().rfind("3.", 0) == 0) {
      v2_ = false;
    } else {
      throw InputError(context_.source(), 0, "/openapi", "missing or unsupported version (expected 2.0, 3.0 or 3.1)");
    }
    try {
      base_ = find_base();
    } catch (const EntryError& e) {
      throw InputError(context_.source(), 0, e.pointer, e.reason);
    }
    auto paths = doc_.find("paths");
    if (paths == doc_.end() || paths->is_null() || paths->empty()) {
      context_.warn(context_.source() + ": /paths: no operations to seed" +
                    (doc_.contains("webhooks") ? " (webhooks describe calls the API makes, not answers it gives)" : ""));
      return;
    }
    if (!paths->is_object()) throw InputError(context_.source(), 0, "/paths", "expected an object");
    std::uint64_t op_index = 0;
    for (const auto& [path, raw_item] : paths->items()) {
      if (path.rfind("x-", 0) == 0) continue;
      std::string item_ptr = "/paths/" + pointer_token(path);
      const Json* resolved_item = &raw_item;
      try { // a path item may be a $ref (3.1: to components/pathItems)
        resolved_item = &resolved(raw_item, item_ptr);
      } catch (const EntryError& e) {
        ++context_.report().entries;
        context_.bad_entry(e);
        continue;
      }
      const Json& item = *resolved_item;
      for (const char* method : kMethods) {
        if (!item.is_object() || !item.contains(method)) continue;
        ++context_.report().entries;
        std::uint64_t index = op_index++;
        try {
          operation(path, item, method, item_ptr, index, out);
        } catch (const EntryError& e) {
          context_.bad_entry(e);
        }
      }
    }
  }

private:
  Base find_base() {
    const std::string& override_url = context_.options().base_url;
    if (!override_url.empty()) {
      Base base = base_from_url(override_url, "--base-url");
      if (base.host.empty()) throw EntryError{"--base-url", "expected an absolute URL: " + override_url};
      return base;
    }
    Base base;
    if (v2_) {
      base.host = string_or_empty(doc_, "host");
      if (auto schemes = doc_.find("schemes"); schemes != doc_.end() && schemes->is_array() && !schemes->empty())
        base.scheme = text_of(schemes->front());
      base.path = string_or_empty(doc_, "basePath");
      while (!base.path.empty() && base.path.back() == '/') base.path.pop_back();
      return base;
    }
    auto servers = doc_.find("servers");
    if (servers == doc_.end() || !servers->is_array() || servers->empty() || !servers->front().is_object()) return base;
    const Json& server = servers->front();
    std::string url = string_or_empty(server, "url");
    if (auto vars = server.find("variables"); vars != server.end() && vars->is_object())
      for (const auto& [name, variable] : vars->items()) {
        std::string value = variable.is_object() && variable.contains("default") ? text_of(variable["default"]) : "";
        // Past each substitution: a default that names the variable again is not substituted again.
        for (std::size_t at = 0; (at = url.find("{" + name + "}", at)) != std::string::npos; at += value.size())
          url.replace(at, name.size() + 2, value);
      }
    return base_from_url(url, "/servers/0/url");
  }

  const Json& resolved(const Json& node, std::string& pointer) { return schemas_.resolve(node, pointer); }

  // Example value of a parameter, header or media object (`holder` at `pointer`). Copies are
  // paid for from the synthesis budget: one big example $ref'd by every response is a fan-out too.
  std::optional<Json> explicit_example(const Json& holder, const std::string& pointer) {
    auto verbatim = [&](const Json& value, const std::string& at) {
      schemas_.charge(value, at);
      return std::optional<Json>(value);
    };
    if (auto example = holder.find("example"); example != holder.end()) return verbatim(*example, pointer + "/example");
    if (auto example = holder.find("x-example"); example != holder.end()) return verbatim(*example, pointer + "/x-example");
    if (auto examples = holder.find("examples"); examples != holder.end() && examples->is_object()) {
      for (const auto& [name, entry] : examples->items()) {
        std::string at = pointer + "/examples/" + pointer_token(name);
        const Json& target = entry.is_object() && entry.contains("$ref") ? resolved(entry, at) : entry;
        if (target.is_object() && target.contains("value")) return verbatim(target["value"], at + "/value");
      }
    }
    return std::nullopt;
  }

  Json value_for(const Json& holder, const std::string& pointer, Direction direction) {
    if (auto example = explicit_example(holder, pointer)) return *example;
    if (auto schema = holder.find("schema"); schema != holder.end()) return schemas_.generate(*schema, direction, pointer + "/schema");
    if (holder.contains("type")) return schemas_.generate(holder, direction, pointer); // 2.0 non-body parameter
    return Json(nullptr);
  }

  void operation(const std::string& path, const Json& path_item, const std::string& method, const std::string& item_ptr,
                 std::uint64_t op_index, std::vector<ImportContext::Pending>& out) {
    std::string op_ptr = item_ptr + "/" + method;
    const Json& op = path_item[method];
    if (!op.is_object()) throw EntryError{op_ptr, "expected an object"};

    // Parameters by (in, name): operation-level ones override path-level ones.
    std::vector<std::pair<std::string, const Json*>> params;
    std::vector<std::string> param_ptrs;
    auto collect = [&](const Json& holder, const std::string& holder_ptr) {
      auto list = holder.find("parameters");
      if (list == holder.end()) return;
      if (!list->is_array()) throw EntryError{holder_ptr + "/parameters", "expected an array"};
      for (std::size_t i = 0; i < list->size(); ++i) {
        std::string at = holder_ptr + "/parameters/" + std::to_string(i);
        const Json& param = resolved((*list)[i], at);
        if (!param.is_object() || !param.contains("name") || !param.contains("in"))
          throw EntryError{at, "a parameter needs name and in"};
        std::string key = text_of(param["in"]) + ":" + text_of(param["name"]);
        auto same = std::find_if(params.begin(), params.end(), [&](const auto& p) { return p.first == key; });
        if (same != params.end()) {
          param_ptrs[static_cast<std::size_t>(same - params.begin())] = at;
          same->second = &param;
        } else {
          params.emplace_back(key, &param);
          param_ptrs.push_back(at);
        }
      }
    };
    collect(path_item, item_ptr);
    collect(op, op_ptr);

    record::Interaction base;
    base.recorded_at = kSeedEpoch;
    base.request.method = method;
    for (char& c : base.request.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    base.request.scheme = base_.scheme;
    base.request.host = base_.host;

    std::string concrete = path;
    std::string query;
    std::vector<std::pair<std::string, std::string>> form;
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Json& param = *params[i].second;
      std::string in = text_of(param["in"]);
      std::string name = text_of(param["name"]);
      bool required = flag(param, "required") || in == "path";
      if (in == "body") {
        set_body(base.request, value_for(param, param_ptrs[i], Direction::request), consumes(op));
        continue;
      }
      if (!required) continue;
      Json value = value_for(param, param_ptrs[i], Direction::request);
      // A free-form string would be seeded as "string"; in a path an id-like 1 is what smart_swap
      // recognises as a parameter.
      bool placeholder = value.is_null() || (value.is_object() && value.empty()) ||
                         (value == SchemaExample::kPlainString && !explicit_example(param, param_ptrs[i]));
      std::string text = placeholder ? "1" : text_of(value);
      if (in == "path") {
        for (std::size_t at; (at = concrete.find("{" + name + "}")) != std::string::npos;)
          concrete.replace(at, name.size() + 2, percent_encode(text));
      } else if (in == "query") {
        query += (query.empty() ? "" : "&") + percent_encode(name) + "=" + percent_encode(text);
      } else if (in == "header") {
        base.request.headers.emplace_back(name, text);
      } else if (in == "formData") {
        form.emplace_back(name, text);
      }
    }
    // Template variables nobody declared still need a concrete segment.
    for (std::size_t open; (open = concrete.find('{')) != std::string::npos;) {
      auto close = concrete.find('}', open);
      if (close == std::string::npos) throw EntryError{item_ptr, "unbalanced '{' in path template"};
      concrete.replace(open, close - open + 1, "1");
    }
    if (!form.empty()) {
      std::string body;
      for (const auto& [k, v] : form) body += (body.empty() ? "" : "&") + percent_encode(k) + "=" + percent_encode(v);
      base.request.body = body;
      base.request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    }
    if (!v2_) {
      if (auto body = op.find("requestBody"); body != op.end()) {
        std::string at = op_ptr + "/requestBody";
        const Json& request_body = resolved(*body, at);
        std::string media;
        auto content = request_body.is_object() ? request_body.find("content") : request_body.end();
        if (const Json* chosen = content == request_body.end() ? nullptr : choose_media(*content, media))
          set_body(base.request, value_for(*chosen, at + "/content/" + pointer_token(media), Direction::request), media);
      }
    }
    base.request.uri = base_.path + concrete + (query.empty() ? "" : "?" + query);
    if (base.request.uri.empty() || base.request.uri.front() != '/') base.request.uri.insert(0, "/");

    auto responses = op.find("responses");
    if (responses == op.end() || !responses->is_object() || responses->empty())
      throw EntryError{op_ptr + "/responses", "missing: an operation needs at least one response"};
    std::vector<std::pair<int, std::string>> codes; // status, key
    for (const auto& [key, value] : responses->items()) {
      if (key.rfind("x-", 0) == 0 || key == "default") continue;
      int status = 0;
      if (key.size() == 3 && std::isdigit(static_cast<unsigned char>(key[0])) &&
          (key.substr(1) == "XX" || key.substr(1) == "xx"))
        status = (key[0] - '0') * 100;
      else if (key.size() == 3 && std::all_of(key.begin(), key.end(), [](unsigned char c) { return std::isdigit(c); }))
        status = std::stoi(key);
      if (status < 100 || status > 599) throw EntryError{op_ptr + "/responses/" + pointer_token(key), "not an HTTP status code"};
      codes.emplace_back(status, key);
    }
    if (codes.empty() && responses->contains("default")) codes.emplace_back(200, "default");
    std::stable_sort(codes.begin(), codes.end(), [](const auto& a, const auto& b) {
      bool a_ok = a.first / 100 == 2, b_ok = b.first / 100 == 2;
      return a_ok != b_ok ? a_ok : a.first < b.first;
    });

    std::string operation_name = op.contains("operationId") ? text_of(op["operationId"])
                                                             : base.request.method + " " + path;
    for (std::size_t k = 0; k < codes.size(); ++k) {
      auto [status, key] = codes[k];
      std::string at = op_ptr + "/responses/" + pointer_token(key);
      const Json& response = resolved((*responses)[key], at);
      if (!response.is_object()) throw EntryError{at, "expected an object"};
      record::Interaction interaction = base;
      interaction.response.status = status;
      interaction.response.reason = std::string(reason_phrase(status));
      std::string origin = fill_response(interaction.response, response, at, produces(op));
      interaction.extra["seed"] = Json{{"operation", operation_name},
                                       {"path_template", base_.path + path},
                                       {"response", key},
                                       {"body", origin}};
      out.push_back(ImportContext::Pending{op_index * 1000 + k, at, std::move(interaction)});
    }
  }

  std::string consumes(const Json& op) const { return first_media(op, "consumes"); }
  std::string produces(const Json& op) const { return first_media(op, "produces"); }
  std::string first_media(const Json& op, const char* key) const {
    for (const Json* holder : {&op, &doc_}) {
      auto list = holder->find(key);
      if (list != holder->end() && list->is_array() && !list->empty()) {
        std::string first = text_of(list->front());
        for (const auto& m : *list)
          if (m.is_string() && is_json_media(m.get<std::string>())) return m.get<std::string>();
        return first;
      }
    }
    return "application/json";
  }

  static void set_body(record::Request& request, const Json& value, const std::string& media) {
    if (value.is_null()) return;
    request.body = body_bytes(value, media);
    request.headers.emplace_back("Content-Type", media.find('*') == std::string::npos ? media : "application/json");
  }

  // Fills status headers and body; returns where the body came from: example, schema or none.
  std::string fill_response(record::Response& out, const Json& response, const std::string& at, const std::string& v2_media) {
    std::optional<Json> body;
    std::string media;
    std::string origin = "none";
    if (v2_) {
      media = v2_media;
      if (auto examples = response.find("examples"); examples != response.end() && examples->is_object() && !examples->empty()) {
        auto exact = examples->find(media);
        const auto& chosen = exact != examples->end() ? exact : examples->begin();
        media = chosen.key();
        body = chosen.value();
        schemas_.charge(*body, at + "/examples/" + pointer_token(media));
        origin = "example";
      } else if (auto schema = response.find("schema"); schema != response.end()) {
        body = schemas_.generate(*schema, Direction::response, at + "/schema");
        origin = "schema";
      }
    } else if (auto content = response.find("content"); content != response.end()) {
      if (const Json* chosen = choose_media(*content, media)) {
        std::string media_ptr = at + "/content/" + pointer_token(media);
        if (auto example = explicit_example(*chosen, media_ptr)) {
          body = *example;
          origin = "example";
        } else if (auto schema = chosen->find("schema"); schema != chosen->end()) {
          std::string schema_ptr = media_ptr + "/schema";
          const Json& target = resolved(*schema, schema_ptr);
          origin = target.is_object() && target.contains("example") ? "example" : "schema";
          body = schemas_.generate(*schema, Direction::response, media_ptr + "/schema");
        } else {
          body = Json(nullptr);
          origin = "none";
        }
        if (origin == "none") body.reset();
      }
    }
    if (body && status_allows_body(out.status)) {
      std::string type = media.find('*') != std::string::npos ? (body->is_string() ? "text/plain" : "application/json") : media;
      out.headers.emplace_back("Content-Type", type);
      out.body = body_bytes(*body, type);
    } else {
      origin = "none";
    }
    if (auto headers = response.find("headers"); headers != response.end() && headers->is_object()) {
      for (const auto& [name, header] : headers->items()) {
        if (util::iequals(name, "content-type")) continue;
        std::string header_ptr = at + "/headers/" + pointer_token(name);
        const Json& spec = resolved(header, header_ptr);
        if (!spec.is_object()) continue;
        Json value = value_for(spec, header_ptr, Direction::response);
        if (!value.is_null()) out.headers.emplace_back(name, text_of(value));
      }
    }
    return origin;
  }

  static bool status_allows_body(int status) { return status >= 200 && status != 204 && status != 304; }

  const Json& doc_;
  ImportContext& context_;
  SchemaExample schemas_;
  bool v2_ = false;
  Base base_;
};

} // namespace

void import_openapi(const std::string& text, ImportContext& context, const Sink& sink) {
  context.set_session_from(text);
  Json doc = parse_document(text, context.source());
  // Collected first, emitted after: a spec is validated whole before anything goes downstream.
  std::vector<ImportContext::Pending> interactions;
  try {
    OpenApiImporter(doc, context).run(interactions);
  } catch (const LimitExceeded& e) {
    throw InputError(context.source(), 0, e.pointer, e.reason);
  }
  context.emit_all(interactions, sink);
}

} // namespace gostly::seed
