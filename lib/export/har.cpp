// HAR 1.2 out, streamed: the log's head, then each entry as it is read, then the tail. Only one
// interaction is in memory at a time.
//
// Bodies: HAR `content.text` is the body as the client read it, so a deflate or br body is
// written decoded (with `compression` saying by how much), and gostly-seed, reading it back,
// drops the Content-Encoding header and fixes Content-Length as it does for any browser HAR.
// A gzip body is the exception: it is written as recorded (base64), because gostly-seed keeps a
// body that still carries the gzip magic together with its `Content-Encoding: gzip`, so the
// round trip gives back the recorded bytes and headers. Text that is valid UTF-8 is `text`,
// anything else base64 with `encoding: "base64"` (postData too, which gostly-seed reads back).
#include "export/har.hpp"

#include "record/body_encoding.hpp"
#include "util/encoding.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace gostly::export_ {
namespace {

using Json = nlohmann::ordered_json;

Json headers_json(const record::Headers& headers) {
  Json out = Json::array();
  for (const auto& [name, value] : headers) out.push_back({{"name", name}, {"value", value}});
  return out;
}

Json query_string(std::string_view query) {
  Json out = Json::array();
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    // Non-UTF-8 after decoding cannot be a JSON string: keep that one as written.
    std::string n = util::percent_decode(name), v = util::percent_decode(value);
    if (!util::is_valid_utf8(n)) n = std::string(name);
    if (!util::is_valid_utf8(v)) v = std::string(value);
    out.push_back({{"name", std::move(n)}, {"value", std::move(v)}});
  }
  return out;
}

// `text` or base64 `text` + `encoding` into `holder`.
void put_body(Json& holder, const std::string& body) {
  if (util::is_valid_utf8(body)) {
    holder["text"] = body;
  } else {
    holder["text"] = util::base64_encode(body);
    holder["encoding"] = "base64";
  }
}

std::string header_or_empty(const record::Headers& headers, std::string_view name) {
  const std::string* value = record::find_header(headers, name);
  return value ? *value : std::string();
}

Json content_json(const record::Interaction& interaction) {
  const auto& response = interaction.response;
  Json content = Json::object();
  const std::string* coding = record::find_header(response.headers, "content-encoding");
  bool gzip_as_recorded = coding && util::iequals(*coding, "gzip");
  std::string decoded;
  const std::string* body = &response.body;
  if (coding && !gzip_as_recorded && record::is_encoded(*coding) && !response.body.empty()) {
    try {
      decoded = record::decode_content(response.body, *coding);
      body = &decoded;
    } catch (const Error& e) { // corrupt or unknown: the recorded bytes, base64
      spdlog::warn("{} {}: response body kept as recorded: {}", interaction.request.method, interaction.request.uri,
                   e.what());
    }
  }
  content["size"] = body->size();
  if (body != &response.body)
    content["compression"] = static_cast<long long>(body->size()) - static_cast<long long>(response.body.size());
  content["mimeType"] = header_or_empty(response.headers, "content-type");
  if (!body->empty()) put_body(content, *body);
  return content;
}

std::string http_version(const std::string& version) { return "HTTP/" + (version.empty() ? "1.1" : version); }

} // namespace

nlohmann::ordered_json har_entry(const record::Interaction& interaction) {
  const auto& rq = interaction.request;
  const auto& rs = interaction.response;
  Json request = Json::object();
  request["method"] = rq.method;
  // HAR wants an absolute URL; a record without a host (hand-written) gets localhost.
  request["url"] = (rq.scheme.empty() ? "http" : rq.scheme) + "://" + (rq.host.empty() ? "localhost" : rq.host) + rq.uri;
  request["httpVersion"] = http_version(rq.http_version);
  request["cookies"] = Json::array();
  request["headers"] = headers_json(rq.headers);
  request["queryString"] = query_string(record::uri_query(rq.uri));
  if (!rq.body.empty()) {
    Json post = Json::object();
    post["mimeType"] = header_or_empty(rq.headers, "content-type");
    put_body(post, rq.body);
    request["postData"] = std::move(post);
  }
  request["headersSize"] = -1;
  request["bodySize"] = rq.body.size();

  Json response = Json::object();
  response["status"] = rs.status;
  response["statusText"] = rs.reason;
  response["httpVersion"] = http_version(rq.http_version);
  response["cookies"] = Json::array();
  response["headers"] = headers_json(rs.headers);
  response["content"] = content_json(interaction);
  response["redirectURL"] = header_or_empty(rs.headers, "location");
  response["headersSize"] = -1;
  response["bodySize"] = rs.body.size();

  double time = interaction.duration_ms > 0 ? interaction.duration_ms : 0;
  Json entry = Json::object();
  entry["startedDateTime"] = interaction.recorded_at.empty() ? "1970-01-01T00:00:00.000Z" : interaction.recorded_at;
  entry["time"] = time;
  entry["request"] = std::move(request);
  entry["response"] = std::move(response);
  entry["cache"] = Json::object();
  // The record has one duration: all of it is waiting for the answer.
  entry["timings"] = {{"send", 0}, {"wait", time}, {"receive", 0}};
  // Vendor extension (HAR allows `_` fields; gostly-seed ignores them): what a HAR cannot say.
  Json own = {{"id", interaction.id}, {"service_id", interaction.service_id}, {"session_id", interaction.session_id},
              {"source", interaction.source}};
  if (!interaction.redacted.empty()) own["redacted"] = interaction.redacted;
  entry["_gostly"] = std::move(own);
  return entry;
}

void write_har(InteractionSource& source, const HarOptions&, std::ostream& out) {
  Json creator = {{"name", "gostly-export"}, {"version", GOSTLY_VERSION}};
  out << R"({"log":{"version":"1.2","creator":)" << creator.dump() << R"(,"entries":[)";
  bool first = true;
  source.for_each([&](const record::Interaction& interaction) {
    out << (first ? "\n" : ",\n")
        << har_entry(interaction).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    first = false;
  });
  out << "\n]}}\n";
}

} // namespace gostly::export_
