#pragma once
// The interaction record: one request/response pair as every gostly tool reads and writes it
// (man gostly-jsonl(5)). Headers are ordered pairs so order, case and repeats survive; bodies are
// raw bytes here and become `body` (UTF-8 text) or `body_b64` (anything else) on the wire.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gostly::record {

inline constexpr int kRecordVersion = 1;
inline constexpr std::string_view kDefaultService = "default";

using Header = std::pair<std::string, std::string>;
using Headers = std::vector<Header>;

/// First value of header `name` (case-insensitive), or nullptr.
const std::string* find_header(const Headers& headers, std::string_view name) noexcept;

struct Request {
  std::string method = "GET";
  std::string uri = "/";         // origin-form: path plus query
  std::string scheme = "http";
  std::string host;              // the API's authority: absolute-form's, else the upstream's (LEARN)
  std::string http_version = "1.1";
  Headers headers;
  std::string body;              // raw bytes
  nlohmann::json extra = nlohmann::json::object(); // unknown fields, kept for round trips
};

struct Response {
  int status = 200;
  std::string reason;
  Headers headers;
  std::string body;              // raw bytes, exactly as sent (e.g. still gzip-compressed)
  nlohmann::json extra = nlohmann::json::object();
};

struct Interaction {
  int v = kRecordVersion;
  std::string id;
  std::string service_id{kDefaultService};
  std::string session_id;
  std::string source = "learn";  // learn | har | postman | openapi | manual
  std::string recorded_at;       // RFC 3339 UTC
  double duration_ms = 0;
  Request request;
  Response response;
  std::vector<std::string> redacted; // lower-case names of headers removed before writing
  nlohmann::json extra = nlohmann::json::object();
};

/// Path part of `uri` (before '?'), and the query (after '?', without it).
std::string_view uri_path(std::string_view uri) noexcept;
std::string_view uri_query(std::string_view uri) noexcept;

/// The RFC 9110 reason phrase of `status` ("Not Found"), or "" for a code without one.
std::string_view reason_phrase(int status) noexcept;

} // namespace gostly::record
