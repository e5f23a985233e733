// The control API: a small JSON router on its own listener. Every route is one row of the table
// in control_routes() — method, path pattern, body limit, handler — as nghttpx's API endpoint
// table does, so a route and its limits are found in one place; the handlers live beside their
// domain (control_mode.cpp, control_services.cpp, control_transition.cpp, control_seed.cpp,
// control_drift.cpp). A known path with the wrong method is a 405 with Allow, an unknown path a
// 404, and every failure an exception mapped to its status in control_dispatch().
//
// Every route but GET /healthz needs X-API-Key, checked before routing (fail closed: a caller
// without the key learns nothing, not even which paths exist); /healthz stays open so load
// balancers and `wait_for_port`-style probes need no secret, and it reveals nothing but
// liveness and the global mode.
#include "serve/control.hpp"

#include "drift/check.hpp"
#include "drift/settings.hpp"
#include "http/message.hpp"
#include "record/codec.hpp"
#include "serve/engine_impl.hpp"
#include "store/sql.hpp"
#include "util/encoding.hpp"
#include "util/files.hpp"
#include "util/limits.hpp"

#include <spdlog/spdlog.h>

#include <limits>

namespace gostly::serve {

namespace control {

std::string reply_json(int status, const json& body, const record::Headers& extra) {
  return http::json_response(status, body.dump(-1, ' ', false, json::error_handler_t::replace), extra);
}

std::string error_json(int status, const std::string& message, const record::Headers& extra) {
  return reply_json(status, json{{"error", message}}, extra);
}

namespace {

/// nlohmann's what() without its `[json.exception.parse_error.101] ` tag.
std::string json_reason(const json::exception& e) {
  std::string text = e.what();
  if (text.starts_with("[json.exception.")) {
    auto end = text.find("] ");
    if (end != std::string::npos) text.erase(0, end + 2);
  }
  return text;
}

/// A SAX consumer that only tracks where the parser is (`services.default.mode`,
/// `redact_headers[2]`), so a syntax error can name its field. Used on the error path only, on
/// text already known to nest no deeper than the limit; iterative, builds no value.
class FieldTracker {
public:
  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(json::number_integer_t) { return value(); }
  bool number_unsigned(json::number_unsigned_t) { return value(); }
  bool number_float(json::number_float_t, const std::string&) { return value(); }
  bool string(std::string&) { return value(); }
  bool binary(json::binary_t&) { return value(); }
  bool start_object(std::size_t) {
    frames_.push_back({false, {}, 0});
    return true;
  }
  bool key(std::string& name) {
    frames_.back().key = name;
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) {
    frames_.push_back({true, {}, 0});
    return true;
  }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string&, const json::exception&) { return false; }

  std::string field() const {
    std::string path;
    for (const auto& frame : frames_) {
      if (frame.array) path += "[" + std::to_string(frame.index) + "]";
      else if (!frame.key.empty()) path += (path.empty() ? "" : ".") + frame.key;
    }
    return path;
  }

private:
  struct Frame {
    bool array;
    std::string key;
    std::size_t index;
  };
  bool value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }
  bool close() {
    frames_.pop_back();
    return value();
  }
  std::vector<Frame> frames_;
};

std::string field_at_error(std::string_view text) {
  FieldTracker tracker;
  try {
    json::sax_parse(text.begin(), text.end(), &tracker, json::input_format_t::json, true);
  } catch (const json::exception&) {
  }
  return tracker.field();
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode_query_component(std::string_view raw, std::string_view name) {
  std::string value;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '+') value.push_back(' ');
    else if (raw[i] != '%') value.push_back(raw[i]);
    else {
      int high = i + 2 < raw.size() ? hex_digit(raw[i + 1]) : -1;
      int low = i + 2 < raw.size() ? hex_digit(raw[i + 2]) : -1;
      if (high < 0 || low < 0) throw UsageError(std::string(name) + ": broken %-escape in the query string");
      value.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  return value;
}

} // namespace

json parse_body(const record::Request& request) {
  if (request.body.empty()) return json::object();
  json body;
  try {
    body = util::parse_json(request.body);
  } catch (const util::LimitError& e) {
    throw HttpError(400, std::string("request body: ") + e.what() +
                             (e.byte() ? " (at byte " + std::to_string(e.byte()) + ")" : std::string()));
  } catch (const json::exception& e) {
    // parse_error for syntax and invalid UTF-8, out_of_range for a number such as 1e999.
    std::string field = field_at_error(request.body);
    throw HttpError(400, "request body: " + (field.empty() ? std::string() : field + ": ") + json_reason(e));
  }
  if (!body.is_object()) throw HttpError(400, "request body: expected a JSON object");
  return body;
}

std::optional<std::string> string_field(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw HttpError(400, std::string(name) + ": expected a string, got " + it->type_name());
  return it->get<std::string>();
}

std::optional<std::uint64_t> unsigned_field(const json& body, const char* name, std::uint64_t max) {
  auto it = body.find(name);
  if (it == body.end()) return std::nullopt;
  if (!it->is_number_unsigned() || it->get<std::uint64_t>() > max)
    throw HttpError(400, std::string(name) + ": expected an integer from 0 to " + std::to_string(max));
  return it->get<std::uint64_t>();
}

void accept_alias(json& body, const char* alias, const char* name) {
  auto it = body.find(alias);
  if (it != body.end() && !body.contains(name)) {
    json value = std::move(*it); // a move: never a recursive copy of whatever the caller sent
    body.erase(alias);
    body[name] = std::move(value);
  }
}

std::vector<std::string> query_values(std::string_view uri, std::string_view name) {
  std::vector<std::string> values;
  std::string_view query = record::uri_query(uri);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      values.push_back(decode_query_component(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), name));
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return values;
}

std::optional<std::string> query_value(std::string_view uri, std::string_view name) {
  auto values = query_values(uri, name);
  if (values.empty()) return std::nullopt;
  return std::move(values.front());
}

bool query_flag(std::string_view uri, std::string_view name, bool fallback) {
  auto value = query_value(uri, name);
  if (!value) return fallback;
  if (value->empty()) return true;
  auto flag = drift::parse_bool(*value);
  if (!flag) throw UsageError(std::string(name) + ": expected true or false, got '" + *value + "'");
  return *flag;
}

std::optional<std::string> query_service(std::string_view uri, std::optional<std::string> fallback) {
  auto id = query_value(uri, "service_id");
  if (!id) return fallback;
  util::require_safe_id(*id, "service_id");
  return id;
}

} // namespace control

using control::error_json;

namespace {

/// True when `path` has the segments of `pattern`, a `{name}` standing for one non-empty
/// segment and a final `{name...}` for the non-empty rest of the path, slashes and all (so
/// `/services/a/b` is a service id the handler refuses, not an unknown route); those segments
/// are appended to `params`.
bool match_pattern(std::string_view pattern, std::string_view path, std::vector<std::string>& params) {
  while (!pattern.empty() && !path.empty()) {
    if (pattern.front() != '/' || path.front() != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    auto pattern_end = pattern.find('/');
    auto path_end = path.find('/');
    std::string_view want = pattern.substr(0, pattern_end);
    std::string_view got = path.substr(0, path_end);
    if (want.starts_with('{') && want.ends_with("...}")) {
      if (path.empty()) return false;
      params.emplace_back(path);
      return pattern_end == std::string_view::npos;
    }
    if (want.starts_with('{')) {
      if (got.empty()) return false;
      params.emplace_back(got);
    } else if (want != got) {
      return false;
    }
    pattern.remove_prefix(want.size());
    path.remove_prefix(got.size());
  }
  return pattern.empty() && path.empty();
}

} // namespace

const std::vector<Engine::Impl::ControlRoute>& Engine::Impl::control_routes() {
  constexpr std::size_t kNone = 0;                                  // a GET takes no body
  constexpr std::size_t kJson = std::size_t{1} << 20;               // a small JSON object
  constexpr std::size_t kArtifact = std::numeric_limits<std::size_t>::max(); // up to --max-body
  static const std::vector<ControlRoute> routes{
      // method  pattern                                  handler                      body limit  open
      {"GET", "/healthz", &Impl::healthz, kNone, true},
      {"GET", "/metrics", &Impl::metrics_get, kNone},
      {"GET", "/v1/mode", &Impl::mode_get, kNone},
      {"POST", "/v1/mode", &Impl::mode_post, kJson},
      {"POST", "/v1/mocks/reset-cursors", &Impl::reset_cursors, kJson},
      {"POST", "/v1/transition", &Impl::transition_post, kJson}, // run: gostly-transition, work budget
      {"POST", "/v1/seed/{format}", &Impl::seed_post, kArtifact}, // gostly-seed child, work budget
      {"POST", "/v1/drift/check", &Impl::drift_check, kJson},
      {"GET", "/v1/drift/events", &Impl::drift_events, kNone},
      {"GET", "/v1/drift/events/{id}", &Impl::drift_event, kNone},
      {"POST", "/v1/drift/events/{id}/acknowledge", &Impl::drift_acknowledge, kJson},
      {"GET", "/v1/drift/freshness-score", &Impl::drift_freshness_score, kNone},
      {"GET", "/v1/drift/sparkline", &Impl::drift_sparkline, kNone},
      {"GET", "/v1/drift/metrics", &Impl::drift_metrics, kNone},
      {"GET", "/services", &Impl::services_list, kNone},
      {"GET", "/services/{id...}", &Impl::service_get, kNone},
      {"PUT", "/services/{id...}", &Impl::service_put, kJson},
  };
  return routes;
}

std::string Engine::Impl::control_dispatch(const record::Request& request) {
  const std::string path(record::uri_path(request.uri));
  const std::string& method = request.method;
  const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : std::string_view(method);

  const ControlRoute* found = nullptr;
  std::vector<std::string> params;
  std::string allow;
  bool known = false, open = false;
  for (const auto& route : control_routes()) {
    std::vector<std::string> segments;
    if (!match_pattern(route.pattern, path, segments)) continue;
    known = true;
    open = open || route.open;
    allow += (allow.empty() ? "" : ", ") + std::string(route.method) + (route.method == "GET" ? ", HEAD" : "");
    if (!found && route.method == wanted) {
      found = &route;
      params = std::move(segments);
    }
  }

  if (!(known && open) && !options.api_key.empty()) {
    const std::string* key = record::find_header(request.headers, "x-api-key");
    if (!key) return error_json(401, "missing X-API-Key header");
    if (!keys_equal(*key, options.api_key)) return error_json(401, "wrong X-API-Key");
  }
  if (!known) return error_json(404, "no route " + method + " " + path);
  if (!found) return error_json(405, method + " " + path + ": use " + allow, {{"Allow", allow}});
  if (request.body.size() > found->max_body)
    return error_json(413, "request body: " + std::to_string(request.body.size()) + " bytes; " + method + " " +
                               std::string(found->pattern) +
                               (found->max_body ? " takes at most " + std::to_string(found->max_body) : " takes none"));

  std::string reply;
  try {
    reply = (this->*found->handler)(ControlCall{request, path, std::move(params)});
  } catch (const control::HttpError& e) {
    reply = error_json(e.status(), e.what());
  } catch (const UsageError& e) {
    reply = error_json(400, e.what());
  } catch (const util::LimitError& e) {
    reply = error_json(400, e.what());
  } catch (const drift::UnknownSessionError& e) {
    reply = error_json(422, e.what());
  } catch (const NotFoundError& e) {
    reply = error_json(404, e.what());
  } catch (const InputError& e) {
    reply = error_json(422, e.what());
  } catch (const store::sql::UnavailableError& e) {
    // The store is down; the library in memory still answers on the proxy port. The message
    // names the store without its password (store/location.hpp).
    spdlog::warn("{} {}: {}", method, path, e.what());
    reply = error_json(503, e.what());
  } catch (const record::FieldError& e) {
    reply = error_json(422, "request body: " + e.field + ": " + e.reason);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", method, path, e.what());
    reply = error_json(500, e.what());
  }
  if (method == "HEAD") { // headers only (Content-Length kept), so keep-alive framing holds
    auto end = reply.find("\r\n\r\n");
    if (end != std::string::npos) reply.resize(end + 4);
  }
  return reply;
}

void Engine::handle_control(record::Request& request, http::Responder responder) {
  responder.send(impl_->control_dispatch(request));
}

} // namespace gostly::serve
