// Postman collection v2.1 out.
//
// Layout: a folder per path template (drift::template_path, the templating drift and smart swap
// share: `/users/42` and `/users/7` are `/users/{id}`), in it one request per method, the
// request of its first recorded interaction (so newman runs something the server really
// answered), with every recorded response of that method and template as a saved example
// (`originalRequest` = the concrete request that got it) and a test that the status is the
// recorded one. URLs on the first interaction's origin start with `{{baseUrl}}`, a collection
// variable. Credential headers (the floor plus REDACT_HEADERS, or any value already masked as
// `gostly-redacted`) become `{{<header name>}}` with an empty collection variable to fill in:
// the secret is never written, masked or not.
//
// Memory is bounded by routes, not interactions: the collection needs everything grouped, but
// the input is in recorded order, so every converted example goes to a spool file (an unlinked
// temporary file in $TMPDIR) as one record of a per-route linked list (each record starts with
// the offset of the next one of its route, patched when that one is written). Memory holds only
// the list heads and tails, one per route; writing the collection walks each list with pread().
// The price is the examples' size in $TMPDIR. Routes are capped by GOSTLY_EXPORT_MAX_ROUTES.
#include "export/postman.hpp"

#include "export/export.hpp"

#include "drift/route.hpp"
#include "record/body_encoding.hpp"
#include "redact/redact.hpp"
#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/limits.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <set>
#include <unistd.h>

namespace gostly::export_ {
namespace {

using Json = nlohmann::ordered_json;

// Header values may hold bytes that are not UTF-8 (gostly-jsonl(5) `{"b64":...}`), and --name
// comes from the command line: Postman can only carry text, so such bytes become U+FFFD.
std::string text(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }
constexpr std::string_view kMasked = "gostly-redacted";
constexpr const char* kSchema = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";

// An unlinked temporary file of length-prefixed records, each linked to the next of its route.
class LinkedSpool {
public:
  LinkedSpool() {
    const char* env = std::getenv("TMPDIR");
    std::string dir = env && *env ? env : "/tmp";
    fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0) { // no O_TMPFILE on this file system: a named file, unlinked at once
      std::string templ = dir + "/gostly-export.XXXXXX";
      fd_ = ::mkostemp(templ.data(), O_CLOEXEC);
      if (fd_ < 0) throw Error("cannot create a temporary file in " + dir + ": " + std::strerror(errno));
      ::unlink(templ.c_str());
    }
  }
  ~LinkedSpool() { ::close(fd_); }
  LinkedSpool(const LinkedSpool&) = delete;
  LinkedSpool& operator=(const LinkedSpool&) = delete;

  // Appends `payload` after `tail` (0 = starts a list); returns its offset.
  std::uint64_t append(std::string_view payload, std::uint64_t tail) {
    std::uint64_t offset = end_;
    std::uint64_t head[2] = {0, payload.size()};
    write_at(offset, {reinterpret_cast<const char*>(head), sizeof head});
    write_at(offset + sizeof head, payload);
    end_ += sizeof head + payload.size();
    if (tail != kNone) write_at(tail, {reinterpret_cast<const char*>(&offset), sizeof offset});
    return offset;
  }

  // Reads the record at `offset` into `payload`; returns the next offset of its list (or kNone).
  std::uint64_t read(std::uint64_t offset, std::string& payload) const {
    std::uint64_t head[2];
    read_at(offset, reinterpret_cast<char*>(head), sizeof head);
    payload.resize(head[1]);
    read_at(offset + sizeof head, payload.data(), payload.size());
    return head[0] == 0 ? kNone : head[0];
  }

  static constexpr std::uint64_t kNone = ~std::uint64_t{0};

private:
  void write_at(std::uint64_t offset, std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error(std::string("cannot write the export's temporary file: ") + std::strerror(errno));
      bytes.remove_prefix(static_cast<std::size_t>(n));
      offset += static_cast<std::uint64_t>(n);
    }
  }
  void read_at(std::uint64_t offset, char* out, std::size_t size) const {
    while (size > 0) {
      ssize_t n = ::pread(fd_, out, size, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error(std::string("cannot read the export's temporary file: ") + std::strerror(errno));
      out += n;
      size -= static_cast<std::size_t>(n);
      offset += static_cast<std::uint64_t>(n);
    }
  }

  int fd_ = -1;
  std::uint64_t end_ = 0;
};

struct Route {
  std::string method;
  std::string request;        // the runnable request (the first interaction's), compact JSON
  int first_status = 0;
  std::uint64_t head = LinkedSpool::kNone, tail = LinkedSpool::kNone;
  std::uint64_t examples = 0;
};

struct Folder {
  std::string path_template;
  std::vector<std::size_t> routes; // indexes into Collector::routes_, first-seen order
};

std::string origin_of(const record::Request& request) {
  return (request.scheme.empty() ? "http" : request.scheme) + "://" + (request.host.empty() ? "localhost" : request.host);
}

std::string language_of(const std::string& content_type) {
  std::string type = util::to_lower(content_type);
  if (type.find("json") != std::string::npos) return "json";
  if (type.find("xml") != std::string::npos) return "xml";
  if (type.find("html") != std::string::npos) return "html";
  if (type.find("javascript") != std::string::npos) return "javascript";
  return "text";
}

// Groups interactions by template and method into the spool, then writes the collection.
class Collector {
public:
  Collector() : redactor_(redact::Redactor::from_environment()), max_routes_(max_routes()) {}

  void add(const record::Interaction& interaction) {
    if (service_.empty()) {
      service_ = interaction.service_id;
      base_url_ = origin_of(interaction.request);
    }
    std::string path_template = drift::template_path(interaction.request.uri);
    std::string key = interaction.request.method + ' ' + path_template;
    auto [it, added] = index_.try_emplace(key, routes_.size());
    if (added) {
      if (routes_.size() >= max_routes_)
        throw util::LimitError("more than " + std::to_string(max_routes_) +
                               " routes (method and path template); raise GOSTLY_EXPORT_MAX_ROUTES to export them");
      Route route;
      route.method = interaction.request.method;
      route.request = text(request_json(interaction.request));
      route.first_status = interaction.response.status;
      routes_.push_back(std::move(route));
      auto [f, new_folder] = folder_index_.try_emplace(path_template, folders_.size());
      if (new_folder) folders_.push_back(Folder{path_template, {}});
      folders_[f->second].routes.push_back(it->second);
    }
    Route& route = routes_[it->second];
    std::uint64_t offset = spool_.append(text(example_json(interaction)),
                                         route.tail);
    if (route.head == LinkedSpool::kNone) route.head = offset;
    route.tail = offset;
    ++route.examples;
  }

  void write(const PostmanOptions& options, std::ostream& out) {
    Json info = {{"name", options.name.empty() ? "gostly " + (service_.empty() ? std::string("default") : service_)
                                               : options.name},
                 {"description", "Recorded traffic exported by gostly-export: a folder per path template, each "
                                 "recorded response a saved example. Set baseUrl to the server to run it against."},
                 {"schema", kSchema}};
    out << "{\"info\":" << text(info) << ",\"item\":[";
    std::string payload;
    for (std::size_t f = 0; f < folders_.size(); ++f) {
      const Folder& folder = folders_[f];
      out << (f ? ",\n" : "\n") << "{\"name\":" << text(Json(folder.path_template)) << ",\"item\":[";
      for (std::size_t r = 0; r < folder.routes.size(); ++r) {
        const Route& route = routes_[folder.routes[r]];
        Json name = route.method + " " + folder.path_template;
        out << (r ? ",\n" : "\n") << "{\"name\":" << text(name) << ",\"request\":" << route.request
            << ",\"event\":" << text(status_test(route.first_status)) << ",\"response\":[";
        bool first = true;
        for (std::uint64_t at = route.head; at != LinkedSpool::kNone; first = false) {
          at = spool_.read(at, payload);
          out << (first ? "\n" : ",\n") << payload;
        }
        out << "]}";
      }
      out << "]}";
    }
    Json variables = Json::array();
    variables.push_back({{"key", "baseUrl"}, {"value", base_url_}, {"type", "string"}});
    for (const auto& name : credential_variables_)
      variables.push_back({{"key", name},
                           {"value", ""},
                           {"type", "string"},
                           {"description", "Recorded value redacted by gostly: fill in your own credential"}});
    out << "\n],\"variable\":" << text(variables) << "}\n";
  }

private:
  bool is_credential(const record::Header& header) const {
    return redactor_.is_redacted(header.first) || header.second.find(kMasked) != std::string::npos;
  }

  // Request headers for Postman: Host and framing headers are the client's to set; credentials
  // become `{{name}}` variables.
  Json request_headers(const record::Headers& headers) {
    Json out = Json::array();
    for (const auto& header : headers) {
      if (util::iequals(header.first, "host") || util::iequals(header.first, "content-length") ||
          util::iequals(header.first, "transfer-encoding") || util::iequals(header.first, "connection"))
        continue;
      if (is_credential(header)) {
        std::string variable = util::to_lower(header.first);
        credential_variables_.insert(variable);
        out.push_back({{"key", header.first}, {"value", "{{" + variable + "}}"}});
      } else {
        out.push_back({{"key", header.first}, {"value", header.second}});
      }
    }
    return out;
  }

  Json url_json(const record::Request& request) const {
    std::string origin = origin_of(request);
    std::string host = origin == base_url_ ? "{{baseUrl}}" : origin;
    std::string_view path = record::uri_path(request.uri);
    std::string_view query = record::uri_query(request.uri);
    Json url = {{"raw", host + request.uri}, {"host", Json::array({host})}};
    Json segments = Json::array();
    std::string_view rest = path.empty() ? path : path.substr(1);
    while (true) {
      auto slash = rest.find('/');
      segments.push_back(std::string(rest.substr(0, slash)));
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    if (segments.size() == 1 && segments[0] == "") segments = Json::array();
    url["path"] = std::move(segments);
    if (request.uri.find('?') != std::string::npos) {
      Json params = Json::array();
      while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        Json value = eq == std::string_view::npos ? Json(nullptr) : Json(std::string(pair.substr(eq + 1)));
        params.push_back({{"key", std::string(pair.substr(0, eq))}, {"value", std::move(value)}});
      }
      url["query"] = std::move(params);
    }
    return url;
  }

  Json request_json(const record::Request& request) {
    Json out = {{"method", request.method}, {"header", request_headers(request.headers)}, {"url", url_json(request)}};
    if (!request.body.empty()) {
      if (util::is_valid_utf8(request.body)) {
        const std::string* type = record::find_header(request.headers, "content-type");
        Json body = {{"mode", "raw"}, {"raw", request.body}};
        if (type) body["options"] = {{"raw", {{"language", language_of(*type)}}}};
        out["body"] = std::move(body);
      } else { // Postman bodies are text: a binary one cannot be carried
        ++binary_bodies_;
        if (binary_bodies_ == 1)
          spdlog::warn("{} {}: a binary request body cannot be carried in a Postman collection; left out",
                       request.method, request.uri);
      }
    }
    return out;
  }

  Json example_json(const record::Interaction& interaction) {
    const auto& response = interaction.response;
    Json headers = Json::array();
    std::string storage;
    const std::string* body = &response.body;
    bool decoded = false;
    try { // Postman shows and replays bodies as the client read them
      body = &record::decoded_body(response, storage);
      decoded = body != &response.body;
    } catch (const Error& e) {
      spdlog::warn("{} {}: response body kept as recorded: {}", interaction.request.method, interaction.request.uri,
                   e.what());
    }
    for (const auto& header : response.headers) {
      if (decoded && util::iequals(header.first, "content-encoding")) continue;
      std::string value = header.second;
      if (decoded && util::iequals(header.first, "content-length")) value = std::to_string(body->size());
      else if (redactor_.is_redacted(header.first) && value.find(kMasked) == std::string::npos) value = kMasked;
      headers.push_back({{"key", header.first}, {"value", std::move(value)}});
    }
    const std::string* type = record::find_header(response.headers, "content-type");
    Json example = {{"name", std::to_string(response.status) + " " + interaction.request.method + " " +
                                 std::string(record::uri_path(interaction.request.uri))},
                    {"originalRequest", request_json(interaction.request)},
                    {"status", response.reason.empty() ? std::string(record::reason_phrase(response.status))
                                                       : response.reason},
                    {"code", response.status},
                    {"_postman_previewlanguage", type ? language_of(*type) : "text"},
                    {"header", std::move(headers)},
                    {"cookie", Json::array()}};
    if (util::is_valid_utf8(*body)) {
      example["body"] = *body;
    } else {
      ++binary_bodies_;
      example["body"] = "";
    }
    return example;
  }

  static Json status_test(int status) {
    std::string code = std::to_string(status);
    return Json::array({{{"listen", "test"},
                         {"script",
                          {{"type", "text/javascript"},
                           {"exec", Json::array({"pm.test(\"status " + code + " as recorded\", function () { "
                                                 "pm.response.to.have.status(" + code + "); });"})}}}}});
  }

public:
  std::uint64_t binary_bodies_ = 0;

private:
  redact::Redactor redactor_;
  std::size_t max_routes_;
  std::string service_, base_url_;
  LinkedSpool spool_;
  std::vector<Route> routes_;
  std::vector<Folder> folders_;
  std::map<std::string, std::size_t> index_;        // "METHOD template" -> routes_
  std::map<std::string, std::size_t> folder_index_; // template -> folders_
  std::set<std::string> credential_variables_;
};

} // namespace

void write_postman(InteractionSource& source, const PostmanOptions& options, std::ostream& out) {
  Collector collector;
  source.for_each([&](const record::Interaction& interaction) { collector.add(interaction); });
  collector.write(options, out);
  if (collector.binary_bodies_ > 0)
    spdlog::warn("{} binary bodies could not be carried in the collection (Postman bodies are text)",
                 collector.binary_bodies_);
}

} // namespace gostly::export_
