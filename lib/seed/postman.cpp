// Postman collections v2.0 and v2.1: every saved example response of every request (folders
// walked depth first, in order) becomes one interaction. A request with no saved response has no
// answer to replay; it is reported and left out rather than invented, unless --placeholder.
//
// The request of an example is its `originalRequest` when present (the request as it was when
// the example was saved), else the item's request; what a plain-URL originalRequest or one
// without a method lacks is the item's. `{{name}}` is resolved from --var, then the
// innermost folder's variables outward to the collection's. An unresolved variable in the URL
// makes the entry bad (there is no path to match on); in headers and bodies it only warns.
// Postman's dynamic variables (`{{$guid}}`, `{{$timestamp}}`) are never resolved: they would make
// the output change from run to run. A variable's value may itself hold `{{other}}`, resolved in
// turn; path variables (`/orders/:orderId`) take their values from the URL's `variable` list.
//
// Substitution is bounded: a variable met again while it is being expanded is a cycle (left as
// it is, and reported), chains stop at kMaxNesting, and the bytes substituted over the whole
// collection may not pass GOSTLY_MAX_VAR_EXPANSION, so `{{a}}` x 100 in `a`, or ten variables
// each naming the next ten times, cost a warning or an error instead of gigabytes.
#include "seed/common.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/limits.hpp"

#include <algorithm>
#include <map>

namespace gostly::seed {
namespace {

using Json = nlohmann::ordered_json;
using Scope = std::vector<std::map<std::string, std::string>>; // innermost last
constexpr const char* kSeedEpoch = "1970-01-01T00:00:00.000Z";
constexpr const char* kBoundary = "gostly-seed-boundary";
constexpr std::size_t kMaxNesting = 10; // a variable naming a variable naming ... stops here

// Why a `{{name}}` was left in the text (the first one).
struct VariableProblem {
  std::string name;
  std::string reason; // empty: everything resolved
};

std::string text_of(const Json& value) {
  if (value.is_null()) return {};
  // A YAML collection's strings are not checked for UTF-8: replace, as OpenAPI's dump does,
  // rather than throw a type_error nobody names.
  return value.is_string() ? value.get<std::string>() : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}


void read_variables(const Json& holder, std::map<std::string, std::string>& into) {
  auto list = holder.find("variable");
  if (list == holder.end() || !list->is_array()) return;
  for (const auto& variable : *list) {
    if (!variable.is_object() || flag(variable, "disabled")) continue;
    std::string name = variable.contains("key") ? text_of(variable["key"]) : text_of(variable.value("id", Json()));
    if (!name.empty()) into[name] = text_of(variable.value("value", Json()));
  }
}

class PostmanImporter {
public:
  PostmanImporter(const Json& doc, ImportContext& context)
      : doc_(doc), context_(context), expansion_limit_(util::limit_from_env("GOSTLY_MAX_VAR_EXPANSION", std::size_t{64} << 20)) {
    for (const auto& [name, value] : context.options().vars) cli_vars_[name] = value;
  }

  void run(std::vector<ImportContext::Pending>& out) {
    const std::string& source = context_.source();
    if (!doc_.is_object()) throw InputError(source, 0, "", "not a Postman collection: expected an object");
    if (doc_.contains("requests") && !doc_.contains("item"))
      throw InputError(source, 0, "/requests", "Postman collection v1 is not supported (export the collection as v2.1)");
    auto info = doc_.find("info");
    if (info == doc_.end() || !info->is_object()) throw InputError(source, 0, "/info", "missing: not a Postman collection");
    std::string schema = info->contains("schema") ? text_of((*info)["schema"]) : text_of(info->value("_postman_schema", Json()));
    if (!schema.empty() && schema.find("v2.0") == std::string::npos && schema.find("v2.1") == std::string::npos &&
        schema.find("#2.0") == std::string::npos && schema.find("#2.1") == std::string::npos)
      throw InputError(source, 0, "/info/schema", "unsupported collection schema " + schema + " (expected v2.0 or v2.1)");
    auto items = doc_.find("item");
    if (items == doc_.end() || !items->is_array()) throw InputError(source, 0, "/item", "missing: not a Postman collection");
    Scope scope(1);
    read_variables(doc_, scope.back());
    // Recursion is one call per folder, and a folder is two levels of the document, whose
    // nesting parse_document bounded (GOSTLY_MAX_DEPTH).
    walk(*items, "/item", "", scope, out);
  }

private:
  void walk(const Json& items, const std::string& pointer, const std::string& folder, Scope& scope,
            std::vector<ImportContext::Pending>& out) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Json& item = items[i];
      std::string at = pointer + "/" + std::to_string(i);
      std::string name = item.is_object() ? text_of(item.value("name", Json())) : std::string();
      std::string label = folder.empty() ? name : folder + " / " + name;
      if (item.is_object() && item.contains("item")) {
        if (!item["item"].is_array()) {
          ++context_.report().entries;
          context_.bad_entry({at + "/item", "expected an array"});
          continue;
        }
        scope.emplace_back();
        read_variables(item, scope.back());
        walk(item["item"], at + "/item", label, scope, out);
        scope.pop_back();
        continue;
      }
      ++context_.report().entries;
      std::uint64_t index = item_index_++;
      try {
        if (!item.is_object()) throw EntryError{at, "expected an object"};
        scope.emplace_back();
        read_variables(item, scope.back());
        request_item(item, at, label, scope, index, out);
        scope.pop_back();
      } catch (const EntryError& e) {
        if (item.is_object()) scope.pop_back();
        context_.bad_entry(e);
      }
    }
  }

  void request_item(const Json& item, const std::string& at, const std::string& label, const Scope& scope,
                    std::uint64_t index, std::vector<ImportContext::Pending>& out) {
    auto request = item.find("request");
    if (request == item.end()) throw EntryError{at + "/request", "missing"};
    auto responses = item.find("response");
    bool has_responses = responses != item.end() && responses->is_array() && !responses->empty();
    if (responses != item.end() && !responses->is_null() && !responses->is_array())
      throw EntryError{at + "/response", "expected an array"};
    record::Request item_request = convert_request(*request, at + "/request", scope);
    auto add = [&](std::uint64_t sub, const std::string& pointer, record::Interaction&& interaction) {
      out.push_back(ImportContext::Pending{index * 1000 + sub, pointer, std::move(interaction)});
    };
    if (!has_responses) {
      ++context_.report().missing_examples;
      if (!context_.options().placeholder) {
        context_.warn(context_.source() + ": " + at + ": request '" + label +
                      "' has no saved response (left out; --placeholder seeds an empty 200)");
        return;
      }
      record::Interaction interaction;
      interaction.recorded_at = kSeedEpoch;
      interaction.request = std::move(item_request);
      interaction.response.status = 200;
      interaction.response.reason = "OK";
      interaction.extra["seed"] = Json{{"request", label}, {"placeholder", true}};
      add(0, at, std::move(interaction));
      return;
    }
    for (std::size_t j = 0; j < responses->size(); ++j) {
      const Json& response = (*responses)[j];
      std::string rp = at + "/response/" + std::to_string(j);
      if (!response.is_object()) throw EntryError{rp, "expected an object"};
      record::Interaction interaction;
      interaction.recorded_at = kSeedEpoch;
      interaction.request = example_request(response, rp, item_request, scope);
      auto& rs = interaction.response;
      auto code = response.find("code");
      std::string status_text = text_of(response.value("status", Json()));
      if (code != response.end() && code->is_number_integer()) {
        rs.status = code->get<int>();
      } else if (status_text.size() >= 3 && std::isdigit(static_cast<unsigned char>(status_text[0]))) {
        rs.status = std::atoi(status_text.c_str());
      } else {
        throw EntryError{rp + "/code", code == response.end() ? "missing" : "expected an integer"};
      }
      if (rs.status < 100 || rs.status > 999) throw EntryError{rp + "/code", "not an HTTP status: " + std::to_string(rs.status)};
      // "200 OK" and "OK" both occur; the reason is the words.
      auto words = status_text.find_first_not_of("0123456789 ");
      rs.reason = words == std::string::npos ? std::string(reason_phrase(rs.status)) : status_text.substr(words);
      rs.headers = convert_headers(response.value("header", Json()), rp + "/header", nullptr);
      rs.body = text_of(response.value("body", Json()));
      interaction.extra["seed"] = Json{{"request", label}, {"example", text_of(response.value("name", Json()))}};
      add(j, rp, std::move(interaction));
    }
  }

  // The request an example was saved for: its originalRequest, with what that lacks taken from
  // the item's request. A plain-URL originalRequest is only a URL: method, headers and body are
  // the item's; an object without a method has the item's method (not Postman's default GET).
  record::Request example_request(const Json& response, const std::string& pointer, const record::Request& item_request,
                                  const Scope& scope) {
    auto original = response.find("originalRequest");
    if (original == response.end() || original->is_null()) return item_request;
    record::Request out = convert_request(*original, pointer + "/originalRequest", scope);
    if (original->is_string()) {
      record::Request merged = item_request;
      merged.scheme = std::move(out.scheme);
      merged.host = std::move(out.host);
      merged.uri = std::move(out.uri);
      return merged;
    }
    if (!original->contains("method")) out.method = item_request.method;
    return out;
  }

  // Replaces {{name}} in `text`, and in turn inside the values substituted (a variable may name
  // another, as Postman allows). Returns the first `{{name}}` left as it is and why.
  VariableProblem resolve(std::string& text, const Scope& scope, const std::string& pointer) {
    if (text.find("{{") == std::string::npos) return {};
    std::string out;
    std::vector<std::string> active;
    VariableProblem problem;
    expand(text, out, scope, active, problem, pointer);
    text = std::move(out);
    return problem;
  }

  const std::string* lookup(const std::string& name, const Scope& scope) const {
    if (auto it = cli_vars_.find(name); it != cli_vars_.end()) return &it->second;
    for (auto level = scope.rbegin(); level != scope.rend(); ++level)
      if (auto it = level->find(name); it != level->end()) return &it->second;
    return nullptr;
  }

  // Appends `text` expanded to `out`. `active` are the variables being expanded, outermost
  // first. Returns the active variables that a cycle led back to: such a variable is not
  // expanded at all, its `{{name}}` stays as it is (a half-expanded cycle helps nobody).
  std::vector<std::string> expand(std::string_view text, std::string& out, const Scope& scope,
                                  std::vector<std::string>& active, VariableProblem& problem, const std::string& pointer) {
    std::vector<std::string> cycles;
    std::size_t pos = 0;
    while (true) {
      auto open = text.find("{{", pos);
      if (open == std::string_view::npos) break;
      auto close = text.find("}}", open + 2);
      if (close == std::string_view::npos) break;
      out.append(text, pos, open - pos);
      pos = close + 2;
      std::string_view reference = text.substr(open, pos - open);
      std::string name(text.substr(open + 2, close - open - 2));
      const std::string* value = lookup(name, scope);
      std::string reason;
      if (!value) {
        reason = "unresolved variable {{" + name + "}}";
      } else if (auto loop = std::find(active.begin(), active.end(), name); loop != active.end()) {
        std::string chain;
        for (auto it = loop; it != active.end(); ++it) chain += *it + " -> ";
        reason = "variable {{" + name + "}} is a cycle (" + chain + name + ")";
        if (std::find(cycles.begin(), cycles.end(), name) == cycles.end()) cycles.push_back(name);
      } else if (active.size() >= kMaxNesting) {
        reason = "variable {{" + name + "}} is nested more than " + std::to_string(kMaxNesting) + " variables deep";
      }
      if (!reason.empty()) {
        out += reference;
        if (problem.reason.empty()) problem = {name, reason};
        continue;
      }
      // Every substitution is paid for, 64 plus its bytes: that bounds the output and the work.
      std::size_t cost = 64 + value->size();
      if (cost > expansion_limit_ - std::min(expansion_limit_, expanded_))
        throw LimitExceeded{pointer, "variables would expand past " + std::to_string(expansion_limit_) +
                                         " bytes in this collection (at {{" + name + "}}; limit GOSTLY_MAX_VAR_EXPANSION)"};
      expanded_ += cost;
      std::size_t mark = out.size();
      active.push_back(name);
      auto inner = expand(*value, out, scope, active, problem, pointer);
      active.pop_back();
      for (auto& back_to : inner) {
        if (back_to == name) {
          out.resize(mark);
          out += reference;
        } else if (std::find(cycles.begin(), cycles.end(), back_to) == cycles.end()) {
          cycles.push_back(std::move(back_to));
        }
      }
    }
    out.append(text, pos);
    return cycles;
  }

  // Postman path variables: a `:name` path segment takes the value of `name` in the URL
  // object's `variable` list (`/orders/:orderId` with orderId=42 is sent as `/orders/42`).
  void resolve_path_variables(const Json& url, std::string& uri, const Scope& scope, const std::string& pointer) {
    if (!url.is_object()) return;
    auto list = url.find("variable");
    if (list == url.end() || !list->is_array() || list->empty()) return;
    std::map<std::string, std::string> values;
    for (const auto& variable : *list) {
      if (!variable.is_object() || flag(variable, "disabled")) continue;
      std::string name = variable.contains("key") ? text_of(variable["key"]) : text_of(variable.value("id", Json()));
      if (name.empty() || !variable.contains("value") || variable["value"].is_null()) continue;
      std::string value = text_of(variable["value"]);
      resolve_soft(value, scope, pointer + "/variable");
      values[name] = value;
    }
    auto path_end = std::min(uri.find('?'), uri.size());
    std::string path;
    std::size_t start = 0;
    while (start < path_end) { // segments of uri[0, path_end), each with its leading '/'
      auto next = uri.find('/', start + 1);
      if (next == std::string::npos || next > path_end) next = path_end;
      std::string segment = uri.substr(start, next - start);
      if (segment.size() > 2 && segment[1] == ':') {
        auto it = values.find(segment.substr(2));
        if (it != values.end()) segment = "/" + it->second;
        else context_.warn(context_.source() + ": " + pointer + ": path variable " + segment.substr(1) + " has no value, sent as it is");
      }
      path += segment;
      start = next;
    }
    uri = path + uri.substr(path_end);
  }

  void resolve_soft(std::string& text, const Scope& scope, const std::string& pointer) {
    auto problem = resolve(text, scope, pointer);
    if (!problem.reason.empty()) context_.warn(context_.source() + ": " + pointer + ": " + problem.reason + ", left as is");
  }

  std::string url_text(const Json& url, const std::string& pointer) const {
    if (url.is_string()) return url.get<std::string>();
    if (!url.is_object()) throw EntryError{pointer, "expected a string or an object"};
    if (url.contains("raw") && url["raw"].is_string()) return url["raw"].get<std::string>();
    std::string text = url.contains("protocol") ? text_of(url["protocol"]) + "://" : "";
    if (auto host = url.find("host"); host != url.end()) {
      if (host->is_array()) {
        for (std::size_t i = 0; i < host->size(); ++i) text += (i ? "." : "") + text_of((*host)[i]);
      } else {
        text += text_of(*host);
      }
    }
    if (url.contains("port") && !url["port"].is_null()) text += ":" + text_of(url["port"]);
    if (auto path = url.find("path"); path != url.end()) {
      if (path->is_array()) {
        for (const auto& segment : *path)
          text += "/" + (segment.is_object() ? text_of(segment.value("value", Json())) : text_of(segment));
      } else {
        std::string p = text_of(*path);
        text += (p.empty() || p.front() == '/' ? "" : "/") + p;
      }
    }
    if (auto query = url.find("query"); query != url.end() && query->is_array()) {
      std::string q;
      for (const auto& param : *query) {
        if (!param.is_object() || flag(param, "disabled")) continue;
        q += (q.empty() ? "" : "&") + text_of(param.value("key", Json()));
        if (param.contains("value") && !param["value"].is_null()) q += "=" + text_of(param["value"]);
      }
      if (!q.empty()) text += "?" + q;
    }
    return text;
  }

  record::Headers convert_headers(const Json& header, const std::string& pointer, const Scope* scope) {
    record::Headers headers;
    if (header.is_null()) return headers;
    if (header.is_string()) { // "Name: value\r\nName: value"
      std::string text = header.get<std::string>();
      std::size_t start = 0;
      while (start < text.size()) {
        auto end = text.find('\n', start);
        std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        start = end == std::string::npos ? text.size() : end + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto colon = line.find(':');
        if (line.empty() || colon == std::string::npos) continue;
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        headers.emplace_back(line.substr(0, colon), value);
      }
    } else if (header.is_array()) {
      for (std::size_t i = 0; i < header.size(); ++i) {
        const Json& h = header[i];
        if (!h.is_object()) throw EntryError{pointer + "/" + std::to_string(i), "expected an object with key and value"};
        if (flag(h, "disabled")) continue;
        headers.emplace_back(text_of(h.value("key", Json())), text_of(h.value("value", Json())));
      }
    } else {
      throw EntryError{pointer, "expected an array or a string"};
    }
    if (scope)
      for (std::size_t i = 0; i < headers.size(); ++i) {
        resolve_soft(headers[i].first, *scope, pointer);
        resolve_soft(headers[i].second, *scope, pointer);
      }
    return headers;
  }

  record::Request convert_request(const Json& request, const std::string& pointer, const Scope& scope) {
    record::Request out;
    const Json* url = &request;
    if (request.is_object()) {
      url = request.contains("url") ? &request["url"] : nullptr;
      if (!url) throw EntryError{pointer + "/url", "missing"};
      if (request.contains("method")) out.method = text_of(request["method"]);
      for (char& c : out.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.headers = convert_headers(request.value("header", Json()), pointer + "/header", &scope);
    } else if (!request.is_string()) {
      throw EntryError{pointer, "expected a string or an object"};
    }
    std::string url_ptr = request.is_object() ? pointer + "/url" : pointer;
    std::string text = url_text(*url, url_ptr);
    if (auto hash = text.find('#'); hash != std::string::npos) text.resize(hash);
    if (auto problem = resolve(text, scope, url_ptr); !problem.reason.empty())
      throw EntryError{url_ptr, problem.reason + (problem.reason.rfind("unresolved", 0) == 0
                                                      ? " (give it with --var " + problem.name + "=VALUE)"
                                                      : std::string())};
    if (text.find("://") == std::string::npos && !text.empty() && text.front() != '/') text.insert(0, "http://");
    SplitUrl split;
    if (!split_url(text, split)) throw EntryError{url_ptr, "not a URL: " + text};
    out.scheme = split.scheme.empty() ? "http" : split.scheme;
    out.host = split.host;
    while (!out.host.empty() && out.host.back() == '.') out.host.pop_back();
    out.uri = split.uri;
    resolve_path_variables(*url, out.uri, scope, url_ptr);
    if (request.is_object()) {
      if (auto body = request.find("body"); body != request.end() && body->is_object())
        convert_body(*body, pointer + "/body", scope, out);
    }
    return out;
  }

  void convert_body(const Json& body, const std::string& pointer, const Scope& scope, record::Request& out) {
    if (flag(body, "disabled")) return;
    std::string mode = text_of(body.value("mode", Json()));
    std::string content_type;
    if (mode == "raw") {
      out.body = text_of(body.value("raw", Json()));
      if (auto options = body.find("options"); options != body.end() && options->is_object()) {
        std::string language = text_of(options->value("raw", Json::object()).value("language", Json()));
        if (language == "json") content_type = "application/json";
        else if (language == "xml") content_type = "application/xml";
      }
    } else if (mode == "urlencoded") {
      for (const auto& field : body.value("urlencoded", Json::array())) {
        if (!field.is_object() || flag(field, "disabled")) continue;
        std::string key = text_of(field.value("key", Json()));
        std::string value = text_of(field.value("value", Json()));
        resolve_soft(key, scope, pointer);
        resolve_soft(value, scope, pointer);
        out.body += (out.body.empty() ? "" : "&") + form_encode(key) + "=" + form_encode(value);
      }
      content_type = "application/x-www-form-urlencoded";
      return set_type(out, content_type);
    } else if (mode == "formdata") {
      for (const auto& field : body.value("formdata", Json::array())) {
        if (!field.is_object() || flag(field, "disabled")) continue;
        std::string key = text_of(field.value("key", Json()));
        if (field.value("type", "text") == "file") {
          context_.warn(context_.source() + ": " + pointer + ": file field '" + key + "' left out (files are not in the collection)");
          continue;
        }
        std::string value = text_of(field.value("value", Json()));
        resolve_soft(value, scope, pointer);
        out.body += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + key + "\"\r\n\r\n" + value + "\r\n";
      }
      if (!out.body.empty()) out.body += std::string("--") + kBoundary + "--\r\n";
      content_type = std::string("multipart/form-data; boundary=") + kBoundary;
      return set_type(out, content_type);
    } else if (mode == "graphql") {
      const Json& graphql = body.value("graphql", Json::object());
      Json payload{{"query", text_of(graphql.value("query", Json()))}};
      std::string variables = text_of(graphql.value("variables", Json()));
      // Parsed with the depth limit like every other document: the payload is dumped again below.
      if (variables.empty()) payload["variables"] = Json::object();
      else try {
          payload["variables"] = util::parse_ordered_json(variables);
        } catch (const nlohmann::json::parse_error&) {
          payload["variables"] = variables; // not JSON: sent as the text it is
        } catch (const util::LimitError& e) {
          throw LimitExceeded{pointer + "/graphql/variables", e.what()};
        }
      out.body = payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      content_type = "application/json";
    } else if (mode == "file") {
      context_.warn(context_.source() + ": " + pointer + ": file body left out (the file is not in the collection)");
      return;
    } else if (!mode.empty()) {
      throw EntryError{pointer + "/mode", "unknown body mode '" + mode + "'"};
    }
    resolve_soft(out.body, scope, pointer);
    set_type(out, content_type);
  }

  static void set_type(record::Request& out, const std::string& content_type) {
    if (!content_type.empty() && !out.body.empty() && !record::find_header(out.headers, "content-type"))
      out.headers.emplace_back("Content-Type", content_type);
  }

  const Json& doc_;
  ImportContext& context_;
  std::map<std::string, std::string> cli_vars_;
  std::uint64_t item_index_ = 0;
  std::size_t expansion_limit_;
  std::size_t expanded_ = 0; // bytes substituted so far, over the whole collection
};

} // namespace

void import_postman(const std::string& text, ImportContext& context, const Sink& sink) {
  context.set_session_from(text);
  Json doc = parse_document(text, context.source());
  // Collected first, emitted after: a collection is validated whole before anything goes downstream.
  std::vector<ImportContext::Pending> interactions;
  try {
    PostmanImporter(doc, context).run(interactions);
  } catch (const LimitExceeded& e) {
    throw InputError(context.source(), 0, e.pointer, e.reason);
  }
  context.emit_all(interactions, sink);
}

} // namespace gostly::seed
